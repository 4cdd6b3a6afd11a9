"""covering index for the progress aggregate over the heating ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:55:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("heating", schema=None) as batch_op:
        batch_op.create_index(
            "ix_heating_progress", ["unit_code", "method", "status", "done_date", "deleted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("heating", schema=None) as batch_op:
        batch_op.drop_index("ix_heating_progress")
