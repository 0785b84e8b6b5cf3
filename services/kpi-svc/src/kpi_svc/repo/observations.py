"""Queries of observations and aggregates: bulk writes through Core statements
(executemany with RETURNING)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from channel_common import SQLModelSession
from sqlmodel import col, select

from ..aggregation import AggregateState
from ..models import AGGREGATES, OBSERVATIONS, PARTNERS, Observation
from ._sql import dialect_insert


async def insert_observations(
    session: SQLModelSession, *, rows: Sequence[dict[str, Any]]
) -> set[uuid.UUID]:
    """Insert what is new (ON CONFLICT DO NOTHING on the id); the ids really inserted."""
    if not rows:
        return set()
    statement = (
        dialect_insert(session, OBSERVATIONS).on_conflict_do_nothing().returning(OBSERVATIONS.c.id)
    )
    result = await session.execute(statement, list(rows))
    return {row[0] for row in result.all()}


async def upsert_aggregates(
    session: SQLModelSession, *, rows: Sequence[dict[str, Any]]
) -> list[StoredAggregate]:
    """Merge each row's statistics into its (partner, kpi, granularity, period) aggregate and
    bump its version; the aggregates as they are now. OverflowError when a sum leaves the
    64-bit range (about 9.2e12 in value units)."""
    if not rows:
        return []
    table = AGGREGATES.c
    insert = dialect_insert(session, AGGREGATES)
    new = insert.excluded
    later = sa.or_(
        new.last_on > table.last_on,
        sa.and_(new.last_on == table.last_on, new.last_id > table.last_id),
    )
    statement = insert.on_conflict_do_update(
        index_elements=[table.partner_id, table.kpi, table.granularity, table.period],
        set_={
            "total_micro": table.total_micro + new.total_micro,
            "count": table["count"] + new["count"],
            "min_micro": sa.case(
                (new.min_micro < table.min_micro, new.min_micro), else_=table.min_micro
            ),
            "max_micro": sa.case(
                (new.max_micro > table.max_micro, new.max_micro), else_=table.max_micro
            ),
            "last_micro": sa.case((later, new.last_micro), else_=table.last_micro),
            "last_on": sa.case((later, new.last_on), else_=table.last_on),
            "last_id": sa.case((later, new.last_id), else_=table.last_id),
            "version": table.version + 1,
            "updated_at": new.updated_at,
        },
    ).returning(
        table.partner_id,
        table.kpi,
        table.granularity,
        table.period,
        table.total_micro,
        table["count"],
        table.min_micro,
        table.max_micro,
        table.last_micro,
        table.version,
    )
    try:
        result = [StoredAggregate(*row) for row in await session.execute(statement, list(rows))]
    except sa.exc.DBAPIError as exc:  # PostgreSQL: bigint out of range
        if "out of range" in str(exc.orig):
            raise OverflowError("an aggregate exceeds the exact integer range") from exc
        raise
    # SQLite turns an integer overflow into a float instead of failing.
    if any(isinstance(row.total_micro, float) for row in result):
        raise OverflowError("an aggregate exceeds the exact integer range")
    return result


class StoredAggregate(NamedTuple):
    """An aggregate as an upsert left it."""

    partner_id: uuid.UUID
    kpi: str
    granularity: str
    period: str
    total_micro: int
    observations: int  # the `count` column (a NamedTuple cannot call a field `count`)
    min_micro: int
    max_micro: int
    last_micro: int
    version: int


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
        query = query.where(sa.or_(on > after[0], sa.and_(on == after[0], oid > after[1])))
    return list((await session.exec(query)).all())
