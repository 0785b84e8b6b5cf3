"""The write path of ingestion: partner lookup, observation insert and aggregate upsert for a
whole batch, each one statement.

On PostgreSQL the statements go to asyncpg directly, with one array parameter per column
(`unnest`): no per-row parameter processing in SQLAlchemy, one round trip, one prepared
statement whatever the batch size. Columns of ids, numbers, dates and keys travel as array
literals in one text parameter (`'{a,b,c}'::text::uuid[]`): asyncpg's array encoder checks
every element against several ABCs, which cost a quarter of a batch's CPU. Free text (region,
source) stays a real array. SQLite takes the same statements through SQLAlchemy Core. Both
run in the session's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import asyncpg
import sqlalchemy as sa
from channel_common import SQLModelSession

from ..models import AGGREGATES, OBSERVATIONS, PARTNERS
from ._sql import chunked, dialect_insert

__all__ = [
    "AggregateDelta",
    "ObservationRow",
    "PartnerState",
    "StoredAggregate",
    "insert_observations",
    "partner_states",
    "upsert_aggregates",
]


# Plain tuples, in column order: a batch makes thousands of them. Ids are canonical UUID
# text (lower-case, hyphenated), which sorts like the UUIDs themselves; days are ISO text
# (`2026-10-15`, which sorts like the dates): each is made once per item, then only joined.
# id, partner_id, kpi, value_micro, occurred_on, region, source
ObservationRow = tuple[str, str, str, int, str, str | None, str | None]
# partner_id, kpi, granularity, period, total_micro, count, min_micro, max_micro,
# last_micro, last_on, last_id: what a batch adds to one aggregate
AggregateDelta = tuple[str, str, str, str, int, int, int, int, int, str, str]
# partner_id, kpi, granularity, period, total_micro, count, min_micro, max_micro,
# last_micro, version: an aggregate as the upsert left it
StoredAggregate = tuple[str, str, str, str, int, int, int, int, int, int]
_OBSERVATION_COLUMNS = ("id", "partner_id", "kpi", "value_micro", "occurred_on", "region", "source")
_AGGREGATE_COLUMNS = (
    "partner_id", "kpi", "granularity", "period", "total_micro", "count", "min_micro",
    "max_micro", "last_micro", "last_on", "last_id",
)  # fmt: skip


class PartnerState(NamedTuple):
    """What ingestion needs to know of a replicated partner."""

    code: str
    status: str


_PG_PARTNERS = "SELECT id, code, status FROM kpi_partners WHERE id = ANY($1::uuid[])"
_PG_INSERT_OBSERVATIONS = """
INSERT INTO kpi_observations
    (id, partner_id, kpi, value_micro, occurred_on, region, source, batch_id, recorded_at)
SELECT id, partner_id, kpi, value_micro, occurred_on, region, source, $8, $9
FROM unnest($1::text::uuid[], $2::text::uuid[], $3::text::varchar[], $4::text::bigint[],
            $5::text::date[], $6::varchar[], $7::varchar[])
     AS t(id, partner_id, kpi, value_micro, occurred_on, region, source)
ON CONFLICT (id) DO NOTHING
RETURNING id::text
"""
# `later`: the delta's last observation comes after the stored one (day, then id).
_PG_UPSERT_AGGREGATES = """
INSERT INTO kpi_aggregates AS a
    (partner_id, kpi, granularity, period, total_micro, count, min_micro, max_micro,
     last_micro, last_on, last_id, version, updated_at)
SELECT partner_id, kpi, granularity, period, total_micro, count, min_micro, max_micro,
       last_micro, last_on, last_id, 1, $12
FROM unnest($1::text::uuid[], $2::text::varchar[], $3::text::varchar[],
            $4::text::varchar[], $5::text::bigint[], $6::text::bigint[], $7::text::bigint[],
            $8::text::bigint[], $9::text::bigint[], $10::text::date[], $11::text::uuid[])
     AS t(partner_id, kpi, granularity, period, total_micro, count, min_micro, max_micro,
          last_micro, last_on, last_id)
ON CONFLICT (partner_id, kpi, granularity, period) DO UPDATE SET
    total_micro = a.total_micro + excluded.total_micro,
    count = a.count + excluded.count,
    min_micro = LEAST(a.min_micro, excluded.min_micro),
    max_micro = GREATEST(a.max_micro, excluded.max_micro),
    last_micro = CASE WHEN (excluded.last_on, excluded.last_id) > (a.last_on, a.last_id)
                      THEN excluded.last_micro ELSE a.last_micro END,
    last_on = CASE WHEN (excluded.last_on, excluded.last_id) > (a.last_on, a.last_id)
                   THEN excluded.last_on ELSE a.last_on END,
    last_id = CASE WHEN (excluded.last_on, excluded.last_id) > (a.last_on, a.last_id)
                   THEN excluded.last_id ELSE a.last_id END,
    version = a.version + 1,
    updated_at = excluded.updated_at
RETURNING partner_id::text, kpi, granularity, period, total_micro, count, min_micro,
          max_micro, last_micro, version
"""


async def _asyncpg(session: SQLModelSession) -> asyncpg.Connection | None:
    """The session's asyncpg connection inside its open transaction (None on SQLite)."""
    bind = session.bind
    if bind is None or bind.dialect.name != "postgresql":
        return None
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter begins lazily, at its first statement.
        await connection.exec_driver_sql("SELECT 1")
    return driver


def _array(values: Sequence[object]) -> str:
    """A PostgreSQL array literal of values whose text needs no quoting (UUIDs, integers,
    dates)."""
    return "{" + ",".join(map(str, values)) + "}"


def _quoted_array(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of keys (KPI keys, granularities, periods), each quoted."""
    together = "".join(values)
    if '"' in together or "\\" in together:  # never for checked keys; keeps the literal sound
        raise ValueError("a key holds a quote or a backslash")
    return '{"' + '","'.join(values) + '"}'


async def partner_states(
    session: SQLModelSession, *, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, PartnerState]:
    """Code and status of the known partners among `ids`."""
    wanted = sorted(set(ids))
    driver = await _asyncpg(session)
    if driver is not None:
        records = await driver.fetch(_PG_PARTNERS, wanted)
        return {r[0]: PartnerState(r[1], r[2]) for r in records}
    found: dict[uuid.UUID, PartnerState] = {}
    p = PARTNERS.c
    for chunk in chunked(wanted):
        result = await session.execute(sa.select(p.id, p.code, p.status).where(p.id.in_(chunk)))
        found.update((row[0], PartnerState(row[1], row[2])) for row in result.all())
    return found


async def insert_observations(
    session: SQLModelSession,
    *,
    rows: Sequence[ObservationRow],
    batch_id: uuid.UUID,
    recorded_at: datetime,
) -> set[str]:
    """Insert what is new (ON CONFLICT DO NOTHING on the id); the ids really inserted (text)."""
    if not rows:
        return set()
    driver = await _asyncpg(session)
    if driver is not None:
        ids, partners, kpis, micros, days, regions, sources = zip(*rows, strict=True)
        records = await driver.fetch(
            _PG_INSERT_OBSERVATIONS,
            _array(ids),
            _array(partners),
            _quoted_array(kpis),
            _array(micros),
            _array(days),
            regions,
            sources,
            batch_id,
            recorded_at,
        )
        return {record[0] for record in records}
    statement = (
        dialect_insert(session, OBSERVATIONS).on_conflict_do_nothing().returning(OBSERVATIONS.c.id)
    )
    params = []
    for row in rows:
        values: dict[str, Any] = dict(zip(_OBSERVATION_COLUMNS, row, strict=True))
        values["id"], values["partner_id"] = uuid.UUID(row[0]), uuid.UUID(row[1])
        values["occurred_on"] = date.fromisoformat(row[4])
        params.append({**values, "batch_id": batch_id, "recorded_at": recorded_at})
    result = await session.execute(statement, params)
    return {str(row[0]) for row in result.all()}


async def upsert_aggregates(
    session: SQLModelSession, *, rows: Sequence[AggregateDelta], updated_at: datetime
) -> list[StoredAggregate]:
    """Merge each delta into its aggregate and bump its version; the aggregates as they are
    now. OverflowError when a sum leaves the 64-bit range (about 9.2e12 in value units)."""
    if not rows:
        return []
    driver = await _asyncpg(session)
    if driver is not None:
        try:
            columns = list(zip(*rows, strict=True))
            literals = [
                _quoted_array(c) if 1 <= i <= 3 else _array(c) for i, c in enumerate(columns)
            ]
            records = await driver.fetch(_PG_UPSERT_AGGREGATES, *literals, updated_at)
        except asyncpg.NumericValueOutOfRangeError as exc:
            raise OverflowError("an aggregate exceeds the exact integer range") from exc
        return records  # type: ignore[no-any-return]  # asyncpg Records index like tuples
    return await _upsert_aggregates_core(session, rows=rows, updated_at=updated_at)


async def _upsert_aggregates_core(
    session: SQLModelSession, *, rows: Sequence[AggregateDelta], updated_at: datetime
) -> list[StoredAggregate]:
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
    params: list[dict[str, Any]] = []
    for row in rows:
        values = dict(zip(_AGGREGATE_COLUMNS, row, strict=True))
        values["partner_id"], values["last_id"] = uuid.UUID(row[0]), uuid.UUID(row[10])
        values["last_on"] = date.fromisoformat(row[9])
        params.append({**values, "version": 1, "updated_at": updated_at})
    result: list[StoredAggregate] = [
        (str(row[0]), *row[1:]) for row in await session.execute(statement, params)
    ]
    # SQLite turns an integer overflow into a float instead of failing.
    if any(isinstance(row[4], float) for row in result):
        raise OverflowError("an aggregate exceeds the exact integer range")
    return result
