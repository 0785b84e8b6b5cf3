"""Table models of rebate-svc: program versions, projections, runs, statements, accruals.

Money is integer minor units; rates, KPI values and basis values are exact decimal text
(identical on SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from channel_common import UTCDateTime, utcnow
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "Accrual",
    "KpiAggregate",
    "PartnerReplica",
    "Program",
    "RebateTable",
    "Run",
    "Statement",
]


class RebateTable(SQLModel, registry=registry()):
    """Base of rebate-svc's tables: a metadata of their own, so that the services' models do
    not mix when several are imported into one process (workspace tests, tooling)."""


class Program(RebateTable, table=True):
    """One version of a rebate program; every version is kept, `current` marks the latest."""

    __tablename__ = "rebate_programs"
    __table_args__ = (sa.Index("ix_rebate_programs_current", "current", "status"),)

    id: uuid.UUID = Field(primary_key=True)
    version: int = Field(primary_key=True)
    current: bool = True
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    period: str = Field(max_length=10)
    basis_kpi: str = Field(max_length=64)
    basis_type: str = Field(max_length=10)
    method: str = Field(max_length=12)
    tiers: list[dict[str, str]] = Field(sa_type=sa.JSON)
    eligibility: dict[str, list[str]] = Field(default_factory=dict, sa_type=sa.JSON)
    qualifiers: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    cap_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    budget_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    valid_from: date
    valid_to: date | None = None
    status: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartnerReplica(RebateTable, table=True):
    """The partner fields rebate-svc needs, from `partner.*` events (highest version wins)."""

    __tablename__ = "rebate_partners"

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=64)
    tier: str = Field(max_length=32)
    type: str = Field(max_length=20)
    region: str = Field(max_length=64)
    status: str = Field(max_length=20, index=True)
    version: int


class KpiAggregate(RebateTable, table=True):
    """A monthly KPI value of a partner from `kpi.aggregates.updated.v1` (highest version)."""

    __tablename__ = "rebate_kpi_aggregates"
    __table_args__ = (sa.Index("ix_rebate_kpi_aggregates_kpi_period", "kpi", "period"),)

    partner_id: uuid.UUID = Field(primary_key=True)
    kpi: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=7)
    value: str = Field(max_length=64)
    version: int


class Run(RebateTable, table=True):
    """One computation of a program's statements for a period."""

    __tablename__ = "rebate_runs"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    program_id: uuid.UUID = Field(index=True)
    program_version: int
    period: str = Field(max_length=7)
    currency: str = Field(max_length=3)
    status: str = Field(max_length=12)
    total_minor: int = Field(default=0, sa_type=sa.BigInteger)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Statement(RebateTable, table=True):
    """What one partner earned under one program for one period (or an adjustment of it)."""

    __tablename__ = "rebate_statements"
    __table_args__ = (
        sa.Index("ix_rebate_statements_key", "program_id", "period", "partner_id"),
        sa.Index("ix_rebate_statements_partner", "partner_id"),
        sa.Index("ix_rebate_statements_run", "run_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    run_id: uuid.UUID
    program_id: uuid.UUID
    program_version: int
    partner_id: uuid.UUID
    period: str = Field(max_length=7)
    currency: str = Field(max_length=3)
    basis_value: str = Field(max_length=64)
    prior_value: str | None = Field(default=None, max_length=64)
    method: str = Field(max_length=12)
    tier_index: int | None = None
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    qualifier_results: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    gross_minor: int = Field(sa_type=sa.BigInteger)
    cap_applied: bool = False
    amount_minor: int = Field(sa_type=sa.BigInteger)
    reason: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=12)
    status: str = Field(max_length=10)
    explanation: str = Field(sa_type=sa.Text)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payment_ref: str | None = Field(default=None, max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Accrual(RebateTable, table=True):
    """The live standing of a partner in a program's open period."""

    __tablename__ = "rebate_accruals"

    program_id: uuid.UUID = Field(primary_key=True)
    partner_id: uuid.UUID = Field(primary_key=True)
    period: str = Field(primary_key=True, max_length=7)
    basis_value: str = Field(max_length=64)
    tier_index: int | None = None
    accrued_minor: int = Field(sa_type=sa.BigInteger)
    # What the amount was computed from besides the basis: prior value and qualifier KPIs.
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
