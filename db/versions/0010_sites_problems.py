"""the 建筑工地 (sites) and 问题清单 (problems) ledgers; 建筑工地动态监管 counted from the sites ledger

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02 10:00:00

Until this revision 建筑工地动态监管 (plan item 十七, 349 sites) was a monthly figure: each unit typed the
sites newly put under supervision in a month, and the months were summed. From now on the count is the
unit's sites in the 建筑工地 ledger that are under supervision (在建, 停工, 完工) and started by the date.
The typed figures cannot become site records (they name no site), so they are moved, unchanged, from
monthly_figures to retired_monthly_figures with the time and the reason; nothing is deleted. A downgrade
moves them back. Months already submitted keep the figures frozen at their submission.
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

RETIRED_KEY = "dust.construction_sites"
REASON = "建筑工地动态监管改为按建筑工地台账统计（在建、停工、完工的工地数），原按月填报的新增工地数停用，原值保留于此。"


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("unit_code", sa.String(length=6), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by", sa.String(length=64), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
    ]


def _ledger_table(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        *columns,
        *_record_columns(),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f(f"fk_{name}_unit_code_units")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("uuid", name=op.f(f"uq_{name}_uuid")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{name}_unit_code"), ["unit_code"], unique=False)


def upgrade() -> None:
    yes_no = [
        sa.Column(key, sa.String(length=2), nullable=True)
        for key in ("fence", "cover", "wet_work", "paving", "washing", "sealed_transport", "online_monitor", "video")
    ]
    _ledger_table(
        "sites",
        sa.Column("project_name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("builder", sa.Text(), nullable=False),
        sa.Column("contractor", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("floor_area", sa.Float(), nullable=True),
        *yes_no,
    )
    _ledger_table(
        "problems",
        sa.Column("township", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("document_no", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("found_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_date", sa.Date(), nullable=True),
        sa.Column("measures", sa.Text(), nullable=True),
    )
    op.create_table(
        "retired_monthly_figures",
        sa.Column("unit_code", sa.String(length=6), nullable=False),
        sa.Column("indicator_key", sa.String(length=48), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "indicator_key", "month", name=op.f("pk_retired_monthly_figures")),
    )
    op.execute(
        sa.text(
            "INSERT INTO retired_monthly_figures "
            "(unit_code, indicator_key, month, value, updated_at, updated_by, retired_at, reason) "
            "SELECT unit_code, indicator_key, month, value, updated_at, updated_by, CURRENT_TIMESTAMP, :reason "
            "FROM monthly_figures WHERE indicator_key = :key"
        ).bindparams(key=RETIRED_KEY, reason=REASON)
    )
    op.execute(sa.text("DELETE FROM monthly_figures WHERE indicator_key = :key").bindparams(key=RETIRED_KEY))


def downgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO monthly_figures (unit_code, indicator_key, month, value, updated_at, updated_by) "
            "SELECT unit_code, indicator_key, month, value, updated_at, updated_by "
            "FROM retired_monthly_figures WHERE indicator_key = :key"
        ).bindparams(key=RETIRED_KEY)
    )
    op.drop_table("retired_monthly_figures")
    for name in ("problems", "sites"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_unit_code"))
            batch_op.drop_index(batch_op.f(f"ix_{name}_deleted_at"))
        op.drop_table(name)
