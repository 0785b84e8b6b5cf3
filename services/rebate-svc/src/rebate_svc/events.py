"""Events rebate-svc publishes: subject → model of the event's `data`."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from channel_common import decimal_serializer
from pydantic import BaseModel

__all__ = [
    "ACCRUAL_UPDATED",
    "PUBLISHED",
    "SOURCE",
    "STATEMENT_APPROVED",
    "STATEMENT_CREATED",
    "STATEMENT_PAID",
    "TIER_REACHED",
    "AccrualEntry",
    "AccrualUpdated",
    "StatementEvent",
    "TierReached",
]

SOURCE = "urn:channel-suite:rebate-svc"
STATEMENT_CREATED = "rebate.statement.created.v1"
STATEMENT_APPROVED = "rebate.statement.approved.v1"
STATEMENT_PAID = "rebate.statement.paid.v1"
ACCRUAL_UPDATED = "rebate.accrual.updated.v1"
TIER_REACHED = "rebate.tier.reached.v1"

Exact = Annotated[Decimal, decimal_serializer("kept", when_used="always")]


class StatementEvent(BaseModel):
    """A statement summary (created, approved or paid)."""

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
    approved_by: str | None = None
    payment_ref: str | None = None


class AccrualEntry(BaseModel):
    """A partner's accrual in a program's open period."""

    program_id: uuid.UUID
    partner_id: uuid.UUID
    period: str
    basis_value: Exact
    tier_index: int | None
    accrued_amount: Exact
    currency: str


class AccrualUpdated(BaseModel):
    """The accruals one batch of KPI updates changed."""

    accruals: list[AccrualEntry]


class TierReached(BaseModel):
    """A partner crossed into a higher tier of a program during the open period."""

    program_id: uuid.UUID
    program_version: int
    partner_id: uuid.UUID
    period: str
    tier_index: int
    previous_tier_index: int | None
    tier_from: Exact
    rate: Exact
    basis_value: Exact


PUBLISHED: dict[str, type[BaseModel]] = {
    STATEMENT_CREATED: StatementEvent,
    STATEMENT_APPROVED: StatementEvent,
    STATEMENT_PAID: StatementEvent,
    ACCRUAL_UPDATED: AccrualUpdated,
    TIER_REACHED: TierReached,
}
