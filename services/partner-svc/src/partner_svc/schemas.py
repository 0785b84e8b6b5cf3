"""API models of partner-svc: what clients send (`extra="forbid"`) and what they get back."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self, get_args

from channel_common import ExactBool, ExactInt, InputModel, decimal_serializer
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    RootModel,
    StrictInt,
    StringConstraints,
    model_validator,
)

__all__ = [
    "STATUSES",
    "Attributes",
    "ChainVerification",
    "Contact",
    "HistoryEntryRead",
    "Money",
    "PartnerCreate",
    "PartnerRead",
    "PartnerStatus",
    "PartnerType",
    "PartnerUpdate",
    "Qualification",
    "QualificationCheck",
    "QualificationReport",
    "Region",
    "TerritoriesReplace",
    "TerritoryIn",
    "TerritoryList",
    "TerritoryOwnerRead",
    "TerritoryRead",
    "TierAdmission",
    "TierChangeRequest",
    "TierLadder",
    "TierRead",
    "TierWrite",
    "TransitionRequest",
]

PartnerType = Literal["distributor", "agent", "reseller", "retailer", "online", "direct"]
PartnerStatus = Literal["prospect", "onboarding", "active", "suspended", "terminated"]
STATUSES: tuple[str, ...] = get_args(PartnerStatus)

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# Hierarchical, `-` separated, stored upper-case: `CN-GD` contains `CN-GD-SZ`.
Region = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9]{1,16}(-[A-Za-z0-9]{1,16})*$"),
    AfterValidator(str.upper),
]
TierKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Count = Annotated[ExactInt, Field(ge=0, le=10_000_000)]
# Exact money: a JSON number or string in, a string with two decimals out; never a float.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=18, decimal_places=2),
    decimal_serializer(2),
]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(pattern=r"^[0-9+() .-]{3,50}$")]
AttributeKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
AttributeValue = Annotated[str, StringConstraints(max_length=500)]
Attributes = Annotated[dict[AttributeKey, AttributeValue], Field(max_length=50)]


class Contact(InputModel):
    """Who to talk to at the partner."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None


class Qualification(InputModel):
    """The figures a tier's admission criteria are checked against (null = unknown)."""

    registered_capital: Money | None = None
    years_in_business: Count | None = None
    service_staff: Count | None = None


class TerritoryIn(InputModel):
    """A region a partner covers."""

    region: Region
    exclusive: ExactBool = False


class TerritoryRead(BaseModel):
    """A region a partner covers."""

    region: str
    exclusive: bool


class PartnerCreate(InputModel):
    """A new partner; it starts as `prospect`."""

    code: Code
    name: Name
    type: PartnerType
    tier: TierKey | None = Field(default=None, description="Default: the lowest tier.")
    region: Region
    parent_id: uuid.UUID | None = None
    contact: Contact = Field(default_factory=Contact)
    qualification: Qualification = Field(default_factory=Qualification)
    attributes: Attributes = Field(default_factory=dict)
    reason: Reason | None = Field(default=None, description="Recorded in the history.")


class PartnerUpdate(InputModel):
    """Fields to change; `contact` and `qualification` merge field by field, `attributes`
    replaces all labels. Tier and status have their own endpoints."""

    name: Name | None = None
    region: Region | None = None
    parent_id: uuid.UUID | None = None
    contact: Contact | None = None
    qualification: Qualification | None = None
    attributes: Attributes | None = None
    reason: Reason | None = Field(default=None, description="Recorded in the history.")

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        for name in ("name", "region", "attributes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class PartnerRead(BaseModel):
    """A partner as the API shows it."""

    id: uuid.UUID
    code: str
    name: str
    type: PartnerType
    tier: str
    region: str
    parent_id: uuid.UUID | None
    status: PartnerStatus
    contact: Contact
    qualification: Qualification
    attributes: dict[str, str]
    territories: list[TerritoryRead]
    created_at: datetime
    updated_at: datetime
    version: int


class TransitionRequest(InputModel):
    """A lifecycle move."""

    to: PartnerStatus
    reason: Reason


class TierChangeRequest(InputModel):
    """A move to another tier of the ladder."""

    tier: TierKey
    reason: Reason


def _unique_regions(territories: list[TerritoryIn]) -> list[TerritoryIn]:
    regions = [t.region for t in territories]
    if len(set(regions)) != len(regions):
        raise ValueError("each region may appear once")
    return territories


TerritoryList = Annotated[list[TerritoryIn], Field(max_length=500), AfterValidator(_unique_regions)]


class TerritoriesReplace(InputModel):
    """The partner's complete list of territories, with the reason for the change."""

    territories: TerritoryList
    reason: Reason | None = None


class TierAdmission(InputModel):
    """The minimum qualification a partner needs to be active in a tier."""

    min_registered_capital: Money = Decimal(0)
    min_years_in_business: Count = 0
    min_service_staff: Count = 0


class TierWrite(InputModel):
    """One tier of the ladder; rank 1 is the highest."""

    key: TierKey
    name: Name
    rank: Annotated[ExactInt, Field(ge=1, le=1000)]
    admission: TierAdmission = Field(default_factory=TierAdmission)


class TierLadder(RootModel[list[TierWrite]]):
    """The whole ladder: unique keys and ranks, at least one tier."""

    root: Annotated[list[TierWrite], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for what in ("key", "rank"):
            values = [getattr(tier, what) for tier in self.root]
            if len(set(values)) != len(values):
                raise ValueError(f"each tier {what} may appear once")
        return self


class TierRead(BaseModel):
    """One tier of the ladder; rank 1 is the highest."""

    key: str
    name: str
    rank: int
    admission: TierAdmission


class QualificationCheck(BaseModel):
    """One admission criterion against the partner's figure."""

    criterion: Literal["registered_capital", "years_in_business", "service_staff"]
    required: StrictInt | Money
    actual: StrictInt | Money | None
    passed: bool


class QualificationReport(BaseModel):
    """Whether the partner meets a tier's admission criteria, criterion by criterion."""

    tier: str
    eligible: bool
    checks: list[QualificationCheck]


class HistoryEntryRead(BaseModel):
    """One recorded change: who, when, why, the values before and after, and its hashes."""

    position: int
    action: str
    actor: str
    reason: str | None
    at: datetime
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any]
    prev_hash: str
    hash: str


class ChainVerification(BaseModel):
    """The outcome of recomputing a partner's hash chain."""

    valid: bool
    entries: int
    broken_at: int | None = Field(description="Position of the first entry that fails.")


class TerritoryOwnerRead(BaseModel):
    """The live partner holding a region exclusively (directly or through an ancestor)."""

    region: str
    held_region: str
    partner_id: uuid.UUID
    partner_code: str
    partner_name: str
