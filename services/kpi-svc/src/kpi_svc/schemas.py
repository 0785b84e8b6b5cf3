"""API models of kpi-svc: inputs forbid unknown fields; decimals in, decimal strings out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from channel_common import ExactBool, ExactDecimal, Granularity, InputModel, IsoDate, Page
from pydantic import BaseModel, Field, model_validator

from .aggregation import Aggregation
from .scaled import DecimalIn

__all__ = [
    "MAX_BATCH",
    "Aggregation",
    "Granularity",
    "GroupBy",
    "IngestRejection",
    "IngestResult",
    "KpiDefinitionCreate",
    "KpiDefinitionRead",
    "KpiDefinitionUpdate",
    "KpiRanking",
    "KpiSummary",
    "ObservationBatch",
    "ObservationIn",
    "ObservationRead",
    "Page",
    "RankingRow",
    "Scorecard",
    "ScorecardComponent",
    "SeriesPoint",
    "SummaryRow",
    "TargetIn",
    "TargetRead",
    "TargetScope",
    "Unit",
]

MAX_BATCH = 10_000
KpiKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
RegionCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$", max_length=64)]
PeriodText = Annotated[
    str, Field(max_length=10, examples=["2026-10-15", "2026-W42", "2026-10", "2026-Q4", "2026"])
]


class Unit(StrEnum):
    """The unit a KPI is measured in."""

    CURRENCY = "currency"
    COUNT = "count"
    RATIO = "ratio"
    PERCENT = "percent"
    DAYS = "days"
    SCORE = "score"


class GroupBy(StrEnum):
    """How a summary groups partners."""

    PARTNER = "partner"
    TIER = "tier"
    REGION = "region"


def _check_range(low: Any, high: Any) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError("min_value must not exceed max_value")


class KpiDefinitionCreate(InputModel):
    """A new KPI definition."""

    key: KpiKey
    name: str = Field(min_length=1, max_length=200)
    unit: Unit
    aggregation: Aggregation
    higher_is_better: ExactBool = True
    weight: DecimalIn = Field(default=Decimal(0), ge=0, description="Weight in the health score.")
    min_value: DecimalIn | None = None
    max_value: DecimalIn | None = None

    @model_validator(mode="after")
    def _range(self) -> KpiDefinitionCreate:
        _check_range(self.min_value, self.max_value)
        return self


class KpiDefinitionUpdate(InputModel):
    """Changes to a KPI definition (absent fields stay; `key` never changes)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    unit: Unit | None = None
    aggregation: Aggregation | None = None
    higher_is_better: ExactBool | None = None
    weight: DecimalIn | None = Field(default=None, ge=0)
    min_value: DecimalIn | None = None
    max_value: DecimalIn | None = None

    @model_validator(mode="after")
    def _range(self) -> KpiDefinitionUpdate:
        _check_range(self.min_value, self.max_value)
        for name in ("name", "unit", "aggregation", "higher_is_better", "weight"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class KpiDefinitionRead(BaseModel):
    """A KPI definition."""

    key: str
    name: str
    unit: Unit
    aggregation: Aggregation
    higher_is_better: bool
    weight: ExactDecimal
    min_value: ExactDecimal | None
    max_value: ExactDecimal | None
    version: int
    created_at: datetime
    updated_at: datetime


class ObservationIn(InputModel):
    """One reported figure; `id` (generated when absent) makes a retry a duplicate."""

    id: uuid.UUID | None = None
    partner_id: uuid.UUID
    kpi: str = Field(min_length=1, max_length=64)
    value: DecimalIn
    occurred_on: IsoDate
    region: RegionCode | None = None
    source: str | None = Field(default=None, max_length=100)


class ObservationBatch(InputModel):
    """1 to 10,000 observations."""

    observations: list[ObservationIn] = Field(min_length=1, max_length=MAX_BATCH)


class IngestRejection(BaseModel):
    """Why one item was not stored (`index`: 0-based item, or 1-based line of an import)."""

    index: int
    code: str = Field(
        description="unknown_partner | partner_terminated | forbidden_partner | unknown_kpi "
        "| out_of_range | invalid_line"
    )
    detail: str


class IngestResult(BaseModel):
    """What happened to each item of a batch."""

    accepted: int
    duplicates: int
    rejected: list[IngestRejection]
    rejected_count: int = Field(description="All rejections, also those not listed.")
    batch_id: uuid.UUID


class ObservationRead(BaseModel):
    """A stored observation."""

    id: uuid.UUID
    partner_id: uuid.UUID
    kpi: str
    value: ExactDecimal
    occurred_on: date
    region: str | None
    source: str | None
    batch_id: uuid.UUID
    recorded_at: datetime


class SeriesPoint(BaseModel):
    """The value of a KPI over one period."""

    period: str
    value: ExactDecimal
    count: int


class SummaryRow(BaseModel):
    """One group's value with the previous period and the same period a year before."""

    group: str = Field(description="Partner id, tier key or region code.")
    value: ExactDecimal | None
    count: int
    previous_value: ExactDecimal | None
    change_pct: ExactDecimal | None = Field(description="Ratio: 0.125 = +12.5 %.")
    year_ago_value: ExactDecimal | None
    yoy_pct: ExactDecimal | None = Field(description="Ratio: 0.125 = +12.5 %.")


class KpiSummary(Page[SummaryRow]):
    """A KPI per group for a period, against the previous period and a year before."""

    kpi: str
    group_by: GroupBy
    period: str
    previous_period: str
    year_ago_period: str


class RankingRow(BaseModel):
    """A partner's place for a KPI (ties share a rank)."""

    rank: int
    partner_id: uuid.UUID
    partner_code: str
    value: ExactDecimal
    count: int


class KpiRanking(BaseModel):
    """Partners ordered best first (by `higher_is_better`)."""

    kpi: str
    period: str
    items: list[RankingRow]


class TargetScope(InputModel):
    """Whom a target is for: one partner, a tier, a region (and its sub-regions), or all."""

    partner_id: uuid.UUID | None = None
    tier: str | None = Field(default=None, min_length=1, max_length=64)
    region: RegionCode | None = None

    @model_validator(mode="after")
    def _one_key(self) -> TargetScope:
        if sum(value is not None for _, value in self) > 1:
            raise ValueError("a scope names at most one of partner_id, tier, region")
        return self

    @property
    def kind(self) -> str:
        """`partner`, `tier`, `region` or `all`."""
        if self.partner_id is not None:
            return "partner"
        if self.tier is not None:
            return "tier"
        return "region" if self.region is not None else "all"

    @property
    def value(self) -> str:
        """The partner id, tier or region named ("" for all)."""
        return str(self.partner_id or self.tier or self.region or "")


class TargetIn(InputModel):
    """A target value of a KPI for a period and scope."""

    kpi: KpiKey
    period: PeriodText
    scope: TargetScope = Field(default_factory=TargetScope)
    value: DecimalIn


class TargetRead(BaseModel):
    """A stored target."""

    kpi: str
    period: str
    scope: dict[str, str] = Field(
        description='{"partner_id": …}, {"tier": …}, {"region": …} or {} (all partners).'
    )
    value: ExactDecimal
    updated_at: datetime


class ScorecardComponent(BaseModel):
    """One KPI of a scorecard and what it contributes to the health score."""

    kpi: str
    value: ExactDecimal | None
    target: ExactDecimal | None
    attainment: ExactDecimal | None = Field(
        description="value/target (inverted when lower is better), clipped to 0..1.2."
    )
    weight: ExactDecimal
    contribution: ExactDecimal | None = Field(description="Points of the health score.")


class Scorecard(BaseModel):
    """A partner's health score (0..100; null when no KPI has both value and target)."""

    partner_id: uuid.UUID
    period: str
    health_score: ExactDecimal | None
    components: list[ScorecardComponent]
