"""Events partner-svc publishes: subject → model of the event's `data`.

Every event carries the full partner snapshot, so a consumer can keep a replica from the events
alone (keeping the highest `version` per partner), plus `previous` (the values that changed) and
the `reason` given for the change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

__all__ = [
    "PARTNER_REGISTERED",
    "PARTNER_STATUS_CHANGED",
    "PARTNER_TERRITORIES_CHANGED",
    "PARTNER_TIER_CHANGED",
    "PARTNER_UPDATED",
    "PUBLISHED",
    "SOURCE",
    "ChangedValues",
    "PartnerRegistered",
    "PartnerSnapshot",
    "PartnerStatusChanged",
    "PartnerTerritoriesChanged",
    "PartnerTierChanged",
    "PartnerUpdated",
    "event_payload",
]

SOURCE = "urn:channel-suite:partner-svc"
PARTNER_REGISTERED = "partner.registered.v1"
PARTNER_UPDATED = "partner.updated.v1"
PARTNER_STATUS_CHANGED = "partner.status.changed.v1"
PARTNER_TIER_CHANGED = "partner.tier.changed.v1"
PARTNER_TERRITORIES_CHANGED = "partner.territories.changed.v1"

DecimalString = Annotated[
    Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json")
]


class EventContact(BaseModel):
    """Contact data of the partner."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


class EventQualification(BaseModel):
    """Qualification figures of the partner (null = unknown)."""

    registered_capital: DecimalString | None = None
    years_in_business: int | None = None
    service_staff: int | None = None


class EventTerritory(BaseModel):
    """A region the partner covers."""

    region: str
    exclusive: bool


class PartnerSnapshot(BaseModel):
    """The whole partner after the change."""

    id: uuid.UUID
    code: str
    name: str
    type: str = Field(description="distributor|agent|reseller|retailer|online|direct")
    tier: str
    region: str
    parent_id: uuid.UUID | None
    status: str = Field(description="prospect|onboarding|active|suspended|terminated")
    contact: EventContact
    qualification: EventQualification
    attributes: dict[str, str]
    territories: list[EventTerritory]
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Grows with every change; keep the highest.")


class ChangedValues(BaseModel):
    """The values before the change, for the fields that changed only."""

    name: str | None = None
    region: str | None = None
    parent_id: uuid.UUID | None = None
    contact: EventContact | None = None
    qualification: EventQualification | None = None
    attributes: dict[str, str] | None = None


class PreviousStatus(BaseModel):
    """The status before the transition."""

    status: str


class PreviousTier(BaseModel):
    """The tier before the change."""

    tier: str


class PreviousTerritories(BaseModel):
    """The territories before the change."""

    territories: list[EventTerritory]


# What a consumer may expect (committed in contracts/events; consumers are tested against it).
_SNAPSHOT_EXAMPLE: dict[str, Any] = {
    "id": "0b9d8f5e-3c1a-4e2b-9f6d-7a8b9c0d1e2f",
    "code": "DIST-SC-CD",
    "name": "Chengdu Channel Distribution",
    "type": "distributor",
    "tier": "gold",
    "region": "CN-SC-CD",
    "parent_id": None,
    "status": "active",
    "contact": {"name": "Li Wei", "email": "li.wei@example.com", "phone": "+86 28 1234 5678"},
    "qualification": {
        "registered_capital": "12000000.00",
        "years_in_business": 8,
        "service_staff": 45,
    },
    "attributes": {"erp_id": "V-10042"},
    "territories": [{"region": "CN-SC", "exclusive": True}],
    "created_at": "2026-03-02T08:00:00Z",
    "updated_at": "2026-10-15T09:30:00Z",
    "version": 7,
}


def _example(**extra: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [{**_SNAPSHOT_EXAMPLE, **extra}]})


class PartnerRegistered(PartnerSnapshot):
    """A partner was registered (as `prospect`)."""

    model_config = _example(status="prospect", tier="registered", territories=[], version=1)

    reason: str | None = None


class PartnerUpdated(PartnerSnapshot):
    """Master data changed (name, region, parent, contact, qualification, attributes)."""

    model_config = _example(previous={"name": "Chengdu Channel Co."}, reason="renamed")

    previous: ChangedValues
    reason: str | None = None


class PartnerStatusChanged(PartnerSnapshot):
    """The partner moved in its lifecycle."""

    model_config = _example(previous={"status": "onboarding"}, reason="contract signed")

    previous: PreviousStatus
    reason: str


class PartnerTierChanged(PartnerSnapshot):
    """The partner moved to another tier."""

    model_config = _example(previous={"tier": "silver"}, reason="2026 review")

    previous: PreviousTier
    reason: str


class PartnerTerritoriesChanged(PartnerSnapshot):
    """The partner's territories were replaced."""

    model_config = _example(
        previous={"territories": [{"region": "CN-SC-CD", "exclusive": False}]}, reason=None
    )

    previous: PreviousTerritories
    reason: str | None = None


PUBLISHED: dict[str, type[BaseModel]] = {
    PARTNER_REGISTERED: PartnerRegistered,
    PARTNER_UPDATED: PartnerUpdated,
    PARTNER_STATUS_CHANGED: PartnerStatusChanged,
    PARTNER_TIER_CHANGED: PartnerTierChanged,
    PARTNER_TERRITORIES_CHANGED: PartnerTerritoriesChanged,
}


def event_payload(subject: str, *, snapshot: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The JSON `data` of a `subject` event, validated against its model.

    `previous` keeps only the fields it was given (what changed), hence `exclude_unset`.
    """
    model = PUBLISHED[subject].model_validate({**snapshot, **extra})
    return model.model_dump(mode="json", exclude_unset=True)
