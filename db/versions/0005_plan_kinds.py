"""milestones, air-quality grades and 2019 baselines, the boilers' 农村地区自建小区 field

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:20:00

Existing rows are kept as they are: a boiler's new field starts empty (not the exception).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("boilers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rural_estate", sa.String(length=2), nullable=True))
    op.create_table(
        "milestones",
        sa.Column("indicator_key", sa.String(length=48), nullable=False),
        sa.Column("unit_code", sa.String(length=6), nullable=False),
        sa.Column("done_date", sa.Date(), nullable=False),
        sa.Column("evidence", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("indicator_key", "unit_code"),
    )
    op.create_table(
        "air_quality_grades",
        sa.Column("area", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("area"),
    )
    op.create_table(
        "air_quality_baselines",
        sa.Column("area", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("pm25", sa.Float(), nullable=False),
        sa.Column("heavy_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("area", "month"),
    )


def downgrade() -> None:
    op.drop_table("air_quality_baselines")
    op.drop_table("air_quality_grades")
    op.drop_table("milestones")
    with op.batch_alter_table("boilers", schema=None) as batch_op:
        batch_op.drop_column("rural_estate")
