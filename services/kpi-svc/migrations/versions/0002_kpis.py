"""KPI definitions (seeded), partner replica, observations, aggregates, targets.

Values are integers scaled by 10^6 (`*_micro`) so SQLite and PostgreSQL agree exactly.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from channel_common import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

M = 10**6
# key, name, unit, aggregation, weight, min, max (DESIGN.md §5, kpi-svc)
SEED = [
    ("sales_amount", "Sales amount", "currency", "sum", "0.4", 0, None),
    ("units_sold", "Units sold", "count", "sum", "0", 0, None),
    ("conversion_rate", "Conversion rate", "ratio", "avg", "0.1", 0, 1),
    ("inventory_turnover", "Inventory turnover", "ratio", "avg", "0.15", 0, None),
    ("customer_satisfaction", "Customer satisfaction", "score", "avg", "0.2", 0, 100),
    ("retention_rate", "Retention rate", "ratio", "avg", "0.15", 0, 1),
    ("store_coverage", "Store coverage", "count", "last", "0", 0, None),
]


def upgrade() -> None:
    definitions = op.create_table(
        "kpi_definitions",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("aggregation", sa.String(8), nullable=False),
        sa.Column("higher_is_better", sa.Boolean, nullable=False),
        sa.Column("weight_micro", sa.BigInteger, nullable=False),
        sa.Column("min_micro", sa.BigInteger, nullable=True),
        sa.Column("max_micro", sa.BigInteger, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "kpi_partners",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, index=True),
        sa.Column("tier", sa.String(64), nullable=False, index=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("region", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("territories", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "kpi_observations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("partner_id", sa.Uuid, nullable=False),
        sa.Column("kpi", sa.String(64), sa.ForeignKey("kpi_definitions.key"), nullable=False),
        sa.Column("value_micro", sa.BigInteger, nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("batch_id", sa.Uuid, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_kpi_observations_kpi_partner_day",
        "kpi_observations",
        ["kpi", "partner_id", "occurred_on"],
    )
    op.create_index(
        "ix_kpi_observations_partner_day", "kpi_observations", ["partner_id", "occurred_on"]
    )
    op.create_table(
        "kpi_aggregates",
        sa.Column("partner_id", sa.Uuid, primary_key=True),
        sa.Column("kpi", sa.String(64), primary_key=True),
        sa.Column("granularity", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("total_micro", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("min_micro", sa.BigInteger, nullable=False),
        sa.Column("max_micro", sa.BigInteger, nullable=False),
        sa.Column("last_micro", sa.BigInteger, nullable=False),
        sa.Column("last_on", sa.Date, nullable=False),
        sa.Column("last_id", sa.Uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_kpi_aggregates_kpi_period", "kpi_aggregates", ["kpi", "granularity", "period"]
    )
    op.create_table(
        "kpi_targets",
        sa.Column("kpi", sa.String(64), sa.ForeignKey("kpi_definitions.key"), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("scope_kind", sa.String(16), primary_key=True),
        sa.Column("scope_value", sa.String(64), primary_key=True),
        sa.Column("value_micro", sa.BigInteger, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    now = datetime(2026, 11, 27, tzinfo=UTC)
    op.bulk_insert(
        definitions,
        [
            {
                "key": key,
                "name": name,
                "unit": unit,
                "aggregation": aggregation,
                "higher_is_better": True,
                "weight_micro": int(Decimal(weight) * M),
                "min_micro": None if low is None else low * M,
                "max_micro": None if high is None else high * M,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for key, name, unit, aggregation, weight, low, high in SEED
        ],
    )


def downgrade() -> None:
    for table in (
        "kpi_targets",
        "kpi_aggregates",
        "kpi_observations",
        "kpi_partners",
        "kpi_definitions",
    ):
        op.drop_table(table)
