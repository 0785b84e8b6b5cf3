"""API models of alert-svc: what clients send (`extra="forbid"`) and what they get back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from channel_common import ExactBool, ExactDecimal, ExactInt, InputModel, IsoDateTime
from pydantic import AnyHttpUrl, BaseModel, Field, StringConstraints

from .conditions import Condition, RuleGranularity

__all__ = [
    "SEVERITIES",
    "AckRequest",
    "AlertRead",
    "AlertState",
    "DeliveryAttemptRead",
    "DeliveryRead",
    "Labels",
    "RuleCreate",
    "RuleRead",
    "RuleUpdate",
    "Scope",
    "Severity",
    "SilenceCreate",
    "SilenceRead",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookEvent",
    "WebhookRead",
]

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
AlertState = Literal["firing", "acknowledged", "resolved"]
WebhookEvent = Literal["alert.fired", "alert.resolved", "alert.acknowledged"]
KpiKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LabelKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
LabelValue = Annotated[str, StringConstraints(max_length=200)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=30)]
Region = Annotated[
    str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9]{1,16}(-[A-Za-z0-9]{1,16})*$")
]


class Scope(InputModel):
    """Which partners a rule watches; an empty list does not restrict."""

    partner_ids: Annotated[list[uuid.UUID], Field(max_length=1000)] = []
    tiers: Annotated[
        list[Annotated[str, StringConstraints(max_length=32)]], Field(max_length=50)
    ] = []
    regions: Annotated[list[Region], Field(max_length=200)] = []


class RuleCreate(InputModel):
    """A new alert rule."""

    name: Name
    kpi: KpiKey
    granularity: RuleGranularity = "month"
    scope: Scope = Scope()
    condition: Condition
    for_periods: ExactInt = Field(default=1, ge=1, le=36)
    severity: Severity = "warning"
    labels: Labels = {}
    enabled: ExactBool = True


class RuleUpdate(InputModel):
    """A partial change of a rule; fields left out stay as they are."""

    name: Name | None = None
    kpi: KpiKey | None = None
    granularity: RuleGranularity | None = None
    scope: Scope | None = None
    condition: Condition | None = None
    for_periods: ExactInt | None = Field(default=None, ge=1, le=36)
    severity: Severity | None = None
    labels: Labels | None = None
    enabled: ExactBool | None = None


class RuleRead(BaseModel):
    """An alert rule."""

    id: uuid.UUID
    name: str
    kpi: str
    granularity: RuleGranularity
    scope: Scope
    condition: Condition
    for_periods: int
    severity: Severity
    labels: dict[str, str]
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


class AlertRead(BaseModel):
    """An alert: one rule breached by one partner, from firing to resolved."""

    id: uuid.UUID
    rule_id: uuid.UUID
    partner_id: uuid.UUID
    kpi: str
    period: str
    state: AlertState
    severity: Severity
    value: ExactDecimal | None
    summary: str
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    silenced: bool
    labels: dict[str, str]


class AckRequest(InputModel):
    """Acknowledge an alert: someone is on it."""

    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class SilenceCreate(InputModel):
    """Mute notifications of alerts whose labels equal every matcher, for a while."""

    matchers: Annotated[dict[LabelKey, LabelValue], Field(min_length=1, max_length=30)]
    starts_at: IsoDateTime | None = None
    ends_at: IsoDateTime
    created_by: Name
    comment: Text


class SilenceRead(BaseModel):
    """A silence."""

    id: uuid.UUID
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime
    active: bool


class WebhookCreate(InputModel):
    """A receiver of signed notifications."""

    url: AnyHttpUrl
    secret: Annotated[str, StringConstraints(pattern=r"^whsec_[A-Za-z0-9+/=]{16,120}$")] | None = (
        None
    )
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=3)] = [
        "alert.fired",
        "alert.resolved",
        "alert.acknowledged",
    ]
    min_severity: Severity = "info"


class WebhookRead(BaseModel):
    """A webhook (its secret is shown only when created)."""

    id: uuid.UUID
    url: str
    events: list[WebhookEvent]
    min_severity: Severity
    created_at: datetime


class WebhookCreated(WebhookRead):
    """A webhook just created, with its signing secret: store it, it is not shown again."""

    secret: str


class DeliveryAttemptRead(BaseModel):
    """One try of a delivery."""

    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    """One notification to a webhook and its attempts."""

    id: uuid.UUID
    alert_id: uuid.UUID
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: list[DeliveryAttemptRead]
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
