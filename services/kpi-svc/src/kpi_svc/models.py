"""Table models of kpi-svc. Values are integers scaled by 10^6 (`*_micro`), never floats."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from channel_common import UTCDateTime, utcnow
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "AGGREGATES",
    "OBSERVATIONS",
    "PARTNERS",
    "TARGETS",
    "TARGET_REVISION",
    "Aggregate",
    "KpiDefinition",
    "KpiTable",
    "Observation",
    "Partner",
    "Target",
    "TargetSetRevision",
]


class KpiTable(SQLModel, registry=registry()):
    """Base of kpi-svc's tables: a metadata of their own, so that the services' models do not
    mix when several are imported into one process (workspace tests, tooling)."""


class KpiDefinition(KpiTable, table=True):
    """What a KPI is and how its observations combine."""

    __tablename__ = "kpi_definitions"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=16)
    aggregation: str = Field(max_length=8)
    higher_is_better: bool = True
    weight_micro: int = Field(default=0, sa_type=sa.BigInteger)
    min_micro: int | None = Field(default=None, sa_type=sa.BigInteger)
    max_micro: int | None = Field(default=None, sa_type=sa.BigInteger)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Partner(KpiTable, table=True):
    """The local replica of a partner, built from `partner.*` events (highest version wins).

    Table names carry the `kpi_` prefix so that they never collide with another service's."""

    __tablename__ = "kpi_partners"

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=64, index=True)
    tier: str = Field(max_length=64, index=True)
    type: str = Field(max_length=32)
    region: str = Field(max_length=64, index=True)
    status: str = Field(max_length=32)
    territories: str = Field(default="[]", sa_type=sa.Text)  # JSON [{region, exclusive}]
    version: int
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Observation(KpiTable, table=True):
    """One reported figure, stored exactly as accepted."""

    __tablename__ = "kpi_observations"
    # Few indexes: every one is paid by each of the millions of inserts (migration 0004).
    __table_args__ = (sa.Index("ix_kpi_observations_partner_day", "partner_id", "occurred_on"),)

    id: uuid.UUID = Field(primary_key=True)
    partner_id: uuid.UUID
    # No foreign key to the definition: ingestion checks the KPI, and the key's per-row
    # trigger and row lock were a quarter of the bulk insert (migration 0004).
    kpi: str = Field(max_length=64)
    value_micro: int = Field(sa_type=sa.BigInteger)
    occurred_on: date
    region: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=100)
    batch_id: uuid.UUID
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Aggregate(KpiTable, table=True):
    """Statistics of one (partner, kpi, day|month) kept in step with every accepted batch."""

    __tablename__ = "kpi_aggregates"
    # Room in each page for in-place updates of an aggregate (PostgreSQL, migration 0004).
    __table_args__ = (
        sa.Index("ix_kpi_aggregates_kpi_period", "kpi", "granularity", "period"),
        {"postgresql_with": {"fillfactor": 80}},
    )

    partner_id: uuid.UUID = Field(primary_key=True)
    kpi: str = Field(primary_key=True, max_length=64)
    granularity: str = Field(primary_key=True, max_length=8)
    period: str = Field(primary_key=True, max_length=10)
    total_micro: int = Field(sa_type=sa.BigInteger)
    count: int = Field(sa_type=sa.BigInteger)
    min_micro: int = Field(sa_type=sa.BigInteger)
    max_micro: int = Field(sa_type=sa.BigInteger)
    last_micro: int = Field(sa_type=sa.BigInteger)
    last_on: date
    last_id: uuid.UUID
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Target(KpiTable, table=True):
    """The target of a KPI for a period and a scope (`scope_value` is "" for all partners)."""

    __tablename__ = "kpi_targets"

    kpi: str = Field(primary_key=True, max_length=64, foreign_key="kpi_definitions.key")
    period: str = Field(primary_key=True, max_length=10)
    scope_kind: str = Field(primary_key=True, max_length=16)  # partner | tier | region | all
    scope_value: str = Field(primary_key=True, max_length=64)
    value_micro: int = Field(sa_type=sa.BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TargetSetRevision(KpiTable, table=True):
    """The revision of the target set as a whole (one row, seeded by the migration): every
    `PUT /targets` bumps it, and it is the set's ETag."""

    __tablename__ = "kpi_target_revision"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int = 0


# Core tables for bulk statements (SQLModel does not type `__table__`).
OBSERVATIONS: sa.Table = Observation.__table__  # type: ignore[attr-defined]
AGGREGATES: sa.Table = Aggregate.__table__  # type: ignore[attr-defined]
PARTNERS: sa.Table = Partner.__table__  # type: ignore[attr-defined]
TARGETS: sa.Table = Target.__table__  # type: ignore[attr-defined]
TARGET_REVISION: sa.Table = TargetSetRevision.__table__  # type: ignore[attr-defined]
