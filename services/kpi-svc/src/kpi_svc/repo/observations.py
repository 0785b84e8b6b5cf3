"""Queries of observations and aggregates (the bulk writes of ingestion are in `ingest`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from channel_common import SQLModelSession, keyset_after
from sqlmodel import col, select

from ..aggregation import AggregateState
from ..models import AGGREGATES, PARTNERS, Observation


@dataclass(frozen=True)
class AggregateRow:
    """One stored aggregate with the grouping attributes of its partner."""

    partner_id: uuid.UUID
    kpi: str
    period: str
    state: AggregateState
    partner_code: str
    tier: str
    region: str


async def aggregate_rows(
    session: SQLModelSession,
    *,
    granularity: str,
    kpi: str | None = None,
    periods: Sequence[str] | None = None,
    between: tuple[str, str] | None = None,
    partner_id: uuid.UUID | None = None,
    tier: str | None = None,
    region: str | None = None,
) -> list[AggregateRow]:
    """Aggregates of one granularity, filtered; `region` includes its sub-regions."""
    a, p = AGGREGATES.c, PARTNERS.c
    query = (
        sa.select(AGGREGATES, p.code, p.tier, p.region)
        .join(PARTNERS, p.id == a.partner_id)
        .where(a.granularity == granularity)
    )
    if kpi is not None:
        query = query.where(a.kpi == kpi)
    if periods is not None:
        query = query.where(a.period.in_(list(periods)))
    if between is not None:
        query = query.where(a.period.between(*between))
    if partner_id is not None:
        query = query.where(a.partner_id == partner_id)
    if tier is not None:
        query = query.where(p.tier == tier)
    if region is not None:
        query = query.where(region_within(p.region, region))
    result = await session.execute(query)
    return [_aggregate_row(row._mapping) for row in result.all()]


def _aggregate_row(row: Any) -> AggregateRow:
    return AggregateRow(
        partner_id=row["partner_id"],
        kpi=row["kpi"],
        period=row["period"],
        state=AggregateState(
            total=row["total_micro"],
            count=row["count"],
            minimum=row["min_micro"],
            maximum=row["max_micro"],
            last_value=row["last_micro"],
            last_on=row["last_on"],
            last_id=row["last_id"],
        ),
        partner_code=row["code"],
        tier=row["tier"],
        region=row["region"],
    )


def region_within(column: sa.ColumnElement[str], region: str) -> sa.ColumnElement[bool]:
    """`column` is `region` or one of its sub-regions (exact on SQLite and PostgreSQL alike)."""
    prefix = region + "-"
    return sa.or_(column == region, sa.func.substr(column, 1, len(prefix)) == prefix)


async def list_observations(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID | None,
    kpi: str | None,
    first: date | None,
    last: date | None,
    source: str | None,
    batch_id: uuid.UUID | None,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> list[Observation]:
    """Observations by (occurred_on, id), filtered, after the keyset `after`."""
    on, oid = col(Observation.occurred_on), col(Observation.id)
    query = select(Observation).order_by(on, oid).limit(limit)
    filters = {
        col(Observation.partner_id): partner_id,
        col(Observation.kpi): kpi,
        col(Observation.source): source,
        col(Observation.batch_id): batch_id,
    }
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    if first is not None:
        query = query.where(on >= first)
    if last is not None:
        query = query.where(on <= last)
    if after is not None:
        query = query.where(keyset_after((on, oid), after))
    return list((await session.exec(query)).all())
