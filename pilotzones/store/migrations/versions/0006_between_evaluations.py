"""between evaluations: rectification cases and their history, expert visits, exchange meetings

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rectification_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adcode", sa.String(length=6), nullable=False),
        sa.Column("card_year", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_year", "adcode", name="uq_rectification_cases_year_adcode"),
    )
    op.create_table(
        "rectification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_cases.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.create_index("ix_rectification_events_case_id", ["case_id"], unique=False)
    op.create_table(
        "expert_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("adcode", sa.String(length=6), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("who", sa.String(length=255), nullable=False),
        sa.Column("found", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("adcode", "visited_on", "who", name="uq_expert_visits_zone_day_who"),
    )
    with op.batch_alter_table("expert_visits", schema=None) as batch_op:
        batch_op.create_index("ix_expert_visits_year", ["year"], unique=False)
    op.create_table(
        "exchange_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("held_on", "place", "kind", name="uq_exchange_meetings_day_place_kind"),
    )
    op.create_table(
        "meeting_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("adcode", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["exchange_meetings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "adcode", name="uq_meeting_attendance"),
    )
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_attendance_meeting_id", ["meeting_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_attendance_meeting_id")
    op.drop_table("meeting_attendance")
    op.drop_table("exchange_meetings")
    with op.batch_alter_table("expert_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_expert_visits_year")
    op.drop_table("expert_visits")
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.drop_index("ix_rectification_events_case_id")
    op.drop_table("rectification_events")
    op.drop_table("rectification_cases")
