"""county audit chain heads received with packages; imported audit entries superseded by an accepted fork

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("package_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("fork_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("package_audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("package_audit_entries", schema=None) as batch_op:
        batch_op.drop_column("superseded_by")
    with op.batch_alter_table("package_imports", schema=None) as batch_op:
        batch_op.drop_column("fork_reason")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")
