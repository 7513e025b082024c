"""the card line a publicity window's last draft showed; a rectification report received late

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publicity_windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cards", sa.JSON(), nullable=True))
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.drop_column("late")
    with op.batch_alter_table("publicity_windows", schema=None) as batch_op:
        batch_op.drop_column("cards")
