"""Table models of alert-svc: rules, the partner and KPI projections, alerts, silences,
webhooks and their delivery queue."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from channel_common import UTCDateTime, utcnow
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "Alert",
    "AlertRule",
    "AlertTable",
    "KpiValue",
    "ObservationDay",
    "PartnerReplica",
    "Silence",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class AlertTable(SQLModel, registry=registry()):
    """Base of alert-svc's tables: a metadata of their own, so that the services' models do
    not mix when several are imported into one process (workspace tests, tooling)."""


class AlertRule(AlertTable, table=True):
    """A rule watching one KPI of the partners in its scope."""

    __tablename__ = "alert_rules"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    kpi: str = Field(max_length=64, index=True)
    granularity: str = Field(max_length=10)
    scope: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    condition: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    condition_type: str = Field(max_length=20, index=True)
    for_periods: int = 1
    severity: str = Field(max_length=10)
    labels: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    enabled: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartnerReplica(AlertTable, table=True):
    """Our copy of a partner, from `partner.*` events (the highest version wins)."""

    __tablename__ = "partners"

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=64)
    tier: str = Field(max_length=32)
    type: str = Field(max_length=20)
    region: str = Field(max_length=64)
    status: str = Field(max_length=20)
    territories: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    version: int
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KpiValue(AlertTable, table=True):
    """The aggregate of one (partner, KPI, period), from `kpi.aggregates.updated.v1`."""

    __tablename__ = "kpi_values"

    partner_id: uuid.UUID = Field(primary_key=True)
    kpi: str = Field(max_length=64, primary_key=True)
    granularity: str = Field(max_length=10, primary_key=True)
    period: str = Field(max_length=10, primary_key=True)
    # Exact: the value times 10^6 as an integer (Numeric would go through float on SQLite).
    value_micro: int = Field(sa_type=sa.BigInteger)
    count: int = 0
    version: int


class ObservationDay(AlertTable, table=True):
    """Observations of one (partner, KPI, day): how many, and how many outside the territory."""

    __tablename__ = "observation_days"

    partner_id: uuid.UUID = Field(primary_key=True)
    kpi: str = Field(max_length=64, primary_key=True)
    occurred_on: date = Field(primary_key=True)
    observed: int = 0
    outside: int = 0


class Alert(AlertTable, table=True):
    """An alert of a rule for a partner; `open_key` is set while open (one per rule+partner)."""

    __tablename__ = "alerts"
    __table_args__ = (sa.Index("ix_alerts_started_at", "started_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    rule_id: uuid.UUID = Field(index=True)
    partner_id: uuid.UUID = Field(index=True)
    kpi: str = Field(max_length=64)
    period: str = Field(max_length=10)
    state: str = Field(max_length=20, index=True)
    severity: str = Field(max_length=10)
    value_micro: int | None = Field(default=None, sa_type=sa.BigInteger)
    summary: str = Field(sa_type=sa.Text)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=200)
    ack_note: str | None = Field(default=None, sa_type=sa.Text)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    silenced: bool = False
    notified: bool = False
    labels: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    open_key: str | None = Field(default=None, max_length=80, unique=True)


class Silence(AlertTable, table=True):
    """Mutes notifications of alerts whose labels match every matcher, between two instants."""

    __tablename__ = "silences"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    matchers: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_by: str = Field(max_length=200)
    comment: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Webhook(AlertTable, table=True):
    """A receiver of signed alert notifications."""

    __tablename__ = "webhooks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    url: str = Field(max_length=2000)
    # The signing key must be usable, so it is kept as given (protect the database).
    secret: str = Field(max_length=200)
    events: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    min_severity: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(AlertTable, table=True):
    """One notification to one webhook: the durable queue entry, retried until done."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    webhook_id: uuid.UUID = Field(foreign_key="webhooks.id", index=True)
    alert_id: uuid.UUID
    event_type: str = Field(max_length=40)
    payload: str = Field(sa_type=sa.Text)
    state: str = Field(max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(AlertTable, table=True):
    """One try of a delivery, as logged."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, sa_column=sa.Column(_BigId, primary_key=True))
    delivery_id: uuid.UUID = Field(foreign_key="webhook_deliveries.id", index=True)
    number: int
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=sa.Text)
    duration_ms: int = 0
