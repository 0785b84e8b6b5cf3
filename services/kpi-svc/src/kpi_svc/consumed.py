"""Our own narrow copies of the events kpi-svc consumes (unknown fields ignored), and the
model of `kpi.ingest.v1`: the body of `POST /api/v1/observations`, validated the same way."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from .schemas import ObservationBatch

__all__ = ["ObservationBatch", "PartnerSnapshot", "TerritorySnapshot"]


class TerritorySnapshot(BaseModel):
    """A region a partner covers (as partner-svc announces it)."""

    model_config = ConfigDict(extra="ignore")

    region: str
    exclusive: bool = False


class PartnerSnapshot(BaseModel):
    """The fields kpi-svc keeps from a `partner.*` event (the rest is ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    code: str = Field(max_length=64)
    tier: str = Field(max_length=64)
    type: str = Field(max_length=32)
    region: str = Field(max_length=64)
    status: str = Field(max_length=32)
    territories: list[TerritorySnapshot] = Field(default_factory=list)
    version: int
