"""Our own narrow copies of the events rebate-svc consumes (unknown fields ignored)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

__all__ = ["AggregateUpdate", "AggregatesUpdated", "PartnerSnapshot"]

_EVENT = ConfigDict(extra="ignore")


class PartnerSnapshot(BaseModel):
    """The fields of a `partner.*` event rebate-svc keeps."""

    model_config = _EVENT

    id: uuid.UUID
    code: str
    tier: str
    type: str
    region: str
    status: str
    version: int


class AggregateUpdate(BaseModel):
    """One new aggregate value of `kpi.aggregates.updated.v1`."""

    model_config = _EVENT

    partner_id: uuid.UUID
    kpi: str
    granularity: str
    period: str
    value: Decimal
    version: int


class AggregatesUpdated(BaseModel):
    """The data of `kpi.aggregates.updated.v1`."""

    model_config = _EVENT

    updates: list[AggregateUpdate]
