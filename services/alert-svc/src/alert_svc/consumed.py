"""Our own narrow copies of the events alert-svc consumes (unknown fields ignored)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AggregateUpdate",
    "AggregatesUpdated",
    "Observation",
    "ObservationsRecorded",
    "PartnerSnapshot",
    "PartnerTerritory",
]

_EVENT = ConfigDict(extra="ignore")


class PartnerTerritory(BaseModel):
    """A region the partner covers."""

    model_config = _EVENT
    region: str
    exclusive: bool = False


class PartnerSnapshot(BaseModel):
    """The partner as any `partner.*` event carries it."""

    model_config = _EVENT
    id: uuid.UUID
    code: str
    tier: str
    type: str
    region: str
    status: str
    territories: list[PartnerTerritory] = []
    version: int


class AggregateUpdate(BaseModel):
    """The new aggregate of one (partner, KPI, period)."""

    model_config = _EVENT
    partner_id: uuid.UUID
    kpi: str
    granularity: str
    period: str
    value: Decimal
    count: int = 0
    version: int


class AggregatesUpdated(BaseModel):
    """`kpi.aggregates.updated.v1`."""

    model_config = _EVENT
    updates: list[AggregateUpdate]


class Observation(BaseModel):
    """One stored observation."""

    model_config = _EVENT
    id: uuid.UUID
    partner_id: uuid.UUID
    kpi: str
    value: Decimal
    occurred_on: date
    region: str | None = None
    source: str | None = None


class ObservationsRecorded(BaseModel):
    """`kpi.observations.recorded.v1`."""

    model_config = _EVENT
    batch_id: uuid.UUID
    observations: list[Observation]
