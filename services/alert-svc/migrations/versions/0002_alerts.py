"""Alert rules, partner and KPI projections, alerts, silences, webhooks and deliveries.

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

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kpi", sa.String(64), nullable=False),
        sa.Column("granularity", sa.String(10), nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("condition", sa.JSON, nullable=False),
        sa.Column("condition_type", sa.String(20), nullable=False),
        sa.Column("for_periods", sa.Integer, nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_alert_rules_kpi", "alert_rules", ["kpi"])
    op.create_index("ix_alert_rules_condition_type", "alert_rules", ["condition_type"])
    op.create_table(
        "partners",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("territories", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "kpi_values",
        sa.Column("partner_id", sa.Uuid, primary_key=True),
        sa.Column("kpi", sa.String(64), primary_key=True),
        sa.Column("granularity", sa.String(10), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("value_micro", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "observation_days",
        sa.Column("partner_id", sa.Uuid, primary_key=True),
        sa.Column("kpi", sa.String(64), primary_key=True),
        sa.Column("occurred_on", sa.Date, primary_key=True),
        sa.Column("observed", sa.Integer, nullable=False),
        sa.Column("outside", sa.Integer, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("rule_id", sa.Uuid, nullable=False),
        sa.Column("partner_id", sa.Uuid, nullable=False),
        sa.Column("kpi", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("value_micro", sa.BigInteger, nullable=True),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("ack_note", sa.Text, nullable=True),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.Column("silenced", sa.Boolean, nullable=False),
        sa.Column("notified", sa.Boolean, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("open_key", sa.String(80), nullable=True, unique=True),
    )
    op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])
    op.create_index("ix_alerts_partner_id", "alerts", ["partner_id"])
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_started_at", "alerts", ["started_at", "id"])
    op.create_table(
        "silences",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("matchers", sa.JSON, nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("min_severity", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("webhook_id", sa.Uuid, sa.ForeignKey("webhooks.id"), nullable=False),
        sa.Column("alert_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_webhook_deliveries_webhook_id", "webhook_deliveries", ["webhook_id"])
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("delivery_id", sa.Uuid, sa.ForeignKey("webhook_deliveries.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])


def downgrade() -> None:
    for table in (
        "webhook_attempts",
        "webhook_deliveries",
        "webhooks",
        "silences",
        "alerts",
        "observation_days",
        "kpi_values",
        "partners",
        "alert_rules",
    ):
        op.drop_table(table)
