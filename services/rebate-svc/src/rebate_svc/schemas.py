"""API models of rebate-svc: decimals in as JSON numbers or strings, out as strings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from channel_common import InputModel, IsoDate, decimal_serializer
from pydantic import BaseModel, ConfigDict, Field

from .bases import BasisType

__all__ = [
    "AccrualRead",
    "Basis",
    "Eligibility",
    "LineRead",
    "NextTierRead",
    "PaymentRequest",
    "ProgramCreate",
    "ProgramRead",
    "ProgramUpdate",
    "QualifierIn",
    "QualifierResultRead",
    "RunAccepted",
    "RunCreate",
    "RunRead",
    "SimulationRequest",
    "SimulationResult",
    "StatementRead",
    "StatementSummary",
    "TierIn",
]

Exact = Annotated[
    Decimal, decimal_serializer("kept", when_used="always"), Field(allow_inf_nan=False)
]
Period = Literal["month", "quarter", "year"]
Method = Literal["retroactive", "incremental"]
Op = Literal["gte", "gt", "lte", "lt"]
Kpi = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _In(InputModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class TierIn(_In):
    """A tier: from `from` (a volume, or a growth ratio) upwards it pays `rate`."""

    start: Exact = Field(alias="from")
    rate: Exact


class Basis(_In):
    """What a program measures: a KPI's volume, or its growth against a year before."""

    kpi: Kpi
    type: BasisType = "volume"


class Eligibility(_In):
    """Who may earn: each list restricts when not empty; only active partners ever earn."""

    tiers: list[str] = Field(default_factory=list, max_length=100)
    types: list[str] = Field(default_factory=list, max_length=100)
    regions: list[str] = Field(default_factory=list, max_length=100)
    partner_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10_000)


class QualifierIn(_In):
    """A gate: the period's `kpi` must be `op` `value`, or the statement pays nothing."""

    kpi: Kpi
    op: Op
    value: Exact


class ProgramCreate(_In):
    """A new rebate program (version 1)."""

    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3)
    period: Period
    basis: Basis
    method: Method = "retroactive"
    tiers: list[TierIn] = Field(min_length=1, max_length=50)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    qualifiers: list[QualifierIn] = Field(default_factory=list, max_length=20)
    cap: Exact | None = Field(default=None, ge=0)
    budget: Exact | None = Field(default=None, ge=0)
    valid_from: IsoDate
    valid_to: IsoDate | None = None
    status: Literal["draft", "active", "retired"] = "draft"


class ProgramUpdate(ProgramCreate):
    """The whole program as it should be from now on (a new version)."""


class TierRead(_Out):
    start: Exact = Field(serialization_alias="from")
    rate: Exact


class QualifierRead(_Out):
    kpi: str
    op: str
    value: Exact


class EligibilityRead(_Out):
    tiers: list[str]
    types: list[str]
    regions: list[str]
    partner_ids: list[uuid.UUID]


class BasisRead(_Out):
    kpi: str
    type: str


class ProgramRead(_Out):
    """A program at its current (or a given) version."""

    id: uuid.UUID
    version: int
    name: str
    currency: str
    period: str
    basis: BasisRead
    method: str
    tiers: list[TierRead]
    eligibility: EligibilityRead
    qualifiers: list[QualifierRead]
    cap: Exact | None
    budget: Exact | None
    valid_from: date
    valid_to: date | None
    status: str
    created_at: datetime
    updated_at: datetime


class LineRead(_Out):
    """One tier's share of a statement."""

    start: Exact = Field(serialization_alias="from")
    end: Exact | None = Field(serialization_alias="to")
    rate: Exact
    base: Exact
    amount: Exact


class QualifierResultRead(_Out):
    kpi: str
    op: str
    value: Exact
    actual: Exact | None
    passed: bool


class NextTierRead(_Out):
    start: Exact = Field(serialization_alias="from")
    distance: Exact
    amount_at_next: Exact


class SimulationRequest(_In):
    """A what-if basis (and prior value for growth); `kpi_values` to evaluate qualifiers."""

    basis_value: Exact
    prior_value: Exact | None = None
    kpi_values: dict[str, Exact] | None = None


class SimulationResult(_Out):
    """What the program would pay on the given basis."""

    program_id: uuid.UUID
    program_version: int
    currency: str
    basis_value: Exact
    prior_value: Exact | None
    growth: Exact | None
    tier_index: int | None
    lines: list[LineRead]
    qualifier_results: list[QualifierResultRead]
    gross_amount: Exact
    cap_applied: bool
    amount: Exact
    reason: str | None
    next_tier: NextTierRead | None


class RunCreate(_In):
    """Compute the statements of a program for one of its periods."""

    program_id: uuid.UUID
    period: str = Field(min_length=4, max_length=7)


class RunAccepted(_Out):
    id: uuid.UUID
    status: str


class StatementSummary(_Out):
    """A statement in lists and events."""

    id: uuid.UUID
    program_id: uuid.UUID
    program_version: int
    partner_id: uuid.UUID
    period: str
    currency: str
    tier_index: int | None
    amount: Exact
    kind: str
    status: str
    reason: str | None


class RunRead(_Out):
    """A run, its statements (the ones it created or recomputed) and their total."""

    id: uuid.UUID
    program_id: uuid.UUID
    program_version: int
    period: str
    currency: str
    status: str
    statements: list[StatementSummary]
    total_amount: Exact
    created_at: datetime
    completed_at: datetime | None


class StatementRead(StatementSummary):
    """A statement with its full breakdown and a plain-words explanation."""

    run_id: uuid.UUID
    basis_value: Exact
    prior_value: Exact | None
    method: str
    lines: list[LineRead]
    qualifier_results: list[QualifierResultRead]
    gross_amount: Exact
    cap_applied: bool
    explanation: str
    approved_by: str | None
    approved_at: datetime | None
    paid_at: datetime | None
    payment_ref: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class PaymentRequest(_In):
    payment_ref: str = Field(min_length=1, max_length=200)


class AccrualRead(_Out):
    """A partner's live standing in a program's open period."""

    program_id: uuid.UUID
    partner_id: uuid.UUID
    period: str
    currency: str
    basis_value: Exact
    tier_index: int | None
    accrued_amount: Exact
    next_tier_from: Exact | None
    distance_to_next: Exact | None
    projected_basis: Exact
    projected_amount: Exact
    updated_at: datetime
