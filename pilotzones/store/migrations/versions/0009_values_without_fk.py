"""submission values: no declared foreign key to their submission (PostgreSQL checked it row by row)

A national year's 136k value rows spent 0.33 s of PostgreSQL's COPY in the per-row trigger that
checks the key. The ledger writes a file's values only in the transaction that records the file
(`ledger.record_submission`, `intake.bulk`), and no submission is ever deleted; the index stays.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# 0001 created the key unnamed: SQLite's batch mode names it by this convention to drop it, and
# PostgreSQL named it by its own.
_SQLITE = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_NAMES = {"sqlite": "fk_submission_values_submission_id_submissions"}
_POSTGRES = "submission_values_submission_id_fkey"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("submission_values", naming_convention=_SQLITE) as batch_op:
            batch_op.drop_constraint(_NAMES["sqlite"], type_="foreignkey")
    else:
        op.drop_constraint(_POSTGRES, "submission_values", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("submission_values") as batch_op:
            batch_op.create_foreign_key(_NAMES["sqlite"], "submissions", ["submission_id"], ["id"])
    else:
        op.create_foreign_key(_POSTGRES, "submission_values", "submissions", ["submission_id"], ["id"])
