"""Rebate programs (every version), partner and KPI projections, runs, statements, accruals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from channel_common import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Uuid = sa.Uuid()


def upgrade() -> None:
    op.create_table(
        "rebate_programs",
        sa.Column("id", _Uuid, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("basis_kpi", sa.String(64), nullable=False),
        sa.Column("basis_type", sa.String(10), nullable=False),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("tiers", sa.JSON, nullable=False),
        sa.Column("eligibility", sa.JSON, nullable=False),
        sa.Column("qualifiers", sa.JSON, nullable=False),
        sa.Column("cap_minor", sa.BigInteger, nullable=True),
        sa.Column("budget_minor", sa.BigInteger, nullable=True),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_rebate_programs_current", "rebate_programs", ["current", "status"])
    op.create_table(
        "rebate_partners",
        sa.Column("id", _Uuid, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_rebate_partners_status", "rebate_partners", ["status"])
    op.create_table(
        "rebate_kpi_aggregates",
        sa.Column("partner_id", _Uuid, primary_key=True),
        sa.Column("kpi", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_rebate_kpi_aggregates_kpi_period", "rebate_kpi_aggregates", ["kpi", "period"]
    )
    op.create_table(
        "rebate_runs",
        sa.Column("id", _Uuid, primary_key=True),
        sa.Column("program_id", _Uuid, nullable=False),
        sa.Column("program_version", sa.Integer, nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_rebate_runs_program_id", "rebate_runs", ["program_id"])
    op.create_table(
        "rebate_statements",
        sa.Column("id", _Uuid, primary_key=True),
        sa.Column("run_id", _Uuid, nullable=False),
        sa.Column("program_id", _Uuid, nullable=False),
        sa.Column("program_version", sa.Integer, nullable=False),
        sa.Column("partner_id", _Uuid, nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("basis_value", sa.String(64), nullable=False),
        sa.Column("prior_value", sa.String(64), nullable=True),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("tier_index", sa.Integer, nullable=True),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("qualifier_results", sa.JSON, nullable=False),
        sa.Column("gross_minor", sa.BigInteger, nullable=False),
        sa.Column("cap_applied", sa.Boolean, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", UTCDateTime, nullable=True),
        sa.Column("paid_at", UTCDateTime, nullable=True),
        sa.Column("payment_ref", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_rebate_statements_key", "rebate_statements", ["program_id", "period", "partner_id"]
    )
    op.create_index("ix_rebate_statements_partner", "rebate_statements", ["partner_id"])
    op.create_index("ix_rebate_statements_run", "rebate_statements", ["run_id"])
    op.create_table(
        "rebate_accruals",
        sa.Column("program_id", _Uuid, primary_key=True),
        sa.Column("partner_id", _Uuid, primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("basis_value", sa.String(64), nullable=False),
        sa.Column("tier_index", sa.Integer, nullable=True),
        sa.Column("accrued_minor", sa.BigInteger, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "rebate_accruals",
        "rebate_statements",
        "rebate_runs",
        "rebate_kpi_aggregates",
        "rebate_partners",
        "rebate_programs",
    ):
        op.drop_table(table)
