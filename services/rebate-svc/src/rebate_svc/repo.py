"""Every query of rebate-svc."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from channel_common import SQLModelSession, keyset_after
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from .bulk import copy_rows, fetch_postgres, is_postgres, update_rows
from .models import Accrual, KpiAggregate, PartnerReplica, Program, Run, Statement

__all__ = [
    "StatementFilters",
    "active_programs",
    "aggregate_keys",
    "get_program",
    "get_run",
    "get_statement",
    "insert_rows",
    "list_accruals",
    "list_programs",
    "list_statements",
    "load_accruals",
    "load_aggregates",
    "load_partners",
    "partner_candidates",
    "run_statements",
    "statement_states",
    "update_statements",
    "upsert_aggregates",
    "upsert_partner",
]


def _insert(session: SQLModelSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


async def get_program(
    session: SQLModelSession,
    *,
    program_id: uuid.UUID,
    version: int | None = None,
    for_update: bool = False,
) -> Program | None:
    """A program at `version`, or its current version."""
    query = select(Program).where(Program.id == program_id)
    query = query.where(Program.version == version) if version else query.where(Program.current)
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def list_programs(
    session: SQLModelSession, *, status: str | None, after: uuid.UUID | None, limit: int
) -> Sequence[Program]:
    """Current versions by id."""
    query = select(Program).where(Program.current).order_by(col(Program.id)).limit(limit)
    if status is not None:
        query = query.where(Program.status == status)
    if after is not None:
        query = query.where(col(Program.id) > after)
    return (await session.exec(query)).all()


async def active_programs(
    session: SQLModelSession, *, kpis: Iterable[str] | None
) -> Sequence[Program]:
    """Current active programs that read any of `kpis` (basis or qualifier; None: all)."""
    query = select(Program).where(Program.current, Program.status == "active")
    programs = (await session.exec(query)).all()
    if kpis is None:
        return programs
    wanted = set(kpis)
    return [
        p
        for p in programs
        if p.basis_kpi in wanted or any(q["kpi"] in wanted for q in p.qualifiers)
    ]


async def upsert_partner(session: SQLModelSession, *, row: dict[str, Any]) -> None:
    """Insert the partner snapshot, or replace the stored one when `row` is newer."""
    statement = _insert(session, PartnerReplica).values(**row)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["id"],
        set_={k: excluded[k] for k in row if k != "id"},
        where=PartnerReplica.__table__.c.version < excluded.version,  # type: ignore[attr-defined]
    )
    await session.execute(statement)


async def upsert_aggregates(session: SQLModelSession, *, rows: list[dict[str, Any]]) -> None:
    """Insert monthly aggregates, or replace stored ones with a lower version."""
    if not rows:
        return
    statement = _insert(session, KpiAggregate)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["partner_id", "kpi", "period"],
        set_={"value": excluded.value, "version": excluded.version},
        where=KpiAggregate.__table__.c.version < excluded.version,  # type: ignore[attr-defined]
    )
    await session.execute(statement, rows)


async def aggregate_keys(
    session: SQLModelSession, *, partner_id: uuid.UUID
) -> set[tuple[uuid.UUID, str, str]]:
    """The (partner, kpi, month) keys of a partner's stored aggregates."""
    query = select(KpiAggregate.kpi, KpiAggregate.period).where(
        KpiAggregate.partner_id == partner_id
    )
    return {(partner_id, kpi, period) for kpi, period in (await session.exec(query)).all()}


async def aggregate_keys_of(
    session: SQLModelSession, *, kpis: Iterable[str], months: Iterable[str]
) -> set[tuple[uuid.UUID, str, str]]:
    """The (partner, kpi, month) keys of every stored aggregate of `kpis` in `months`."""
    query = select(KpiAggregate.partner_id, KpiAggregate.kpi, KpiAggregate.period).where(
        col(KpiAggregate.kpi).in_(list(kpis)), col(KpiAggregate.period).in_(list(months))
    )
    return {(p, kpi, period) for p, kpi, period in (await session.exec(query)).all()}


async def load_partners(
    session: SQLModelSession, *, ids: Iterable[uuid.UUID] | None = None, active_only: bool = True
) -> Sequence[PartnerReplica]:
    """Partners of the replica (only active ones unless told otherwise)."""
    query = select(PartnerReplica)
    if active_only:
        query = query.where(PartnerReplica.status == "active")
    if ids is not None:
        query = query.where(col(PartnerReplica.id).in_(list(ids)))
    return (await session.exec(query)).all()


async def partner_candidates(
    session: SQLModelSession, *, tiers: list[str], types: list[str]
) -> Sequence[Any]:
    """Rows (id, tier, type, region, status) of active partners, narrowed by tier and type."""
    table = PartnerReplica.__table__  # type: ignore[attr-defined]
    query = sa.select(table.c.id, table.c.tier, table.c.type, table.c.region, table.c.status).where(
        table.c.status == "active"
    )
    if tiers:
        query = query.where(table.c.tier.in_(tiers))
    if types:
        query = query.where(table.c.type.in_(types))
    return (await session.execute(query)).all()


async def statement_states(
    session: SQLModelSession, *, program_id: uuid.UUID, period: str
) -> Sequence[Any]:
    """Rows (partner_id, id, kind, status, amount_minor, version) of a program period's
    statements, oldest first, locked against a concurrent run."""
    table = Statement.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(
            table.c.partner_id,
            table.c.id,
            table.c.kind,
            table.c.status,
            table.c.amount_minor,
            table.c.version,
        )
        .where(table.c.program_id == program_id, table.c.period == period)
        .order_by(table.c.created_at, table.c.id)
        .with_for_update()
    )
    return (await session.execute(query)).all()


async def update_statements(session: SQLModelSession, *, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key (each dict names `id` and the columns to set), grouped by
    the set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    table = Statement.__table__  # type: ignore[attr-defined]
    for group in groups.values():
        await update_rows(session, table=table, rows=group)


async def load_aggregates(
    session: SQLModelSession,
    *,
    kpis: Iterable[str],
    months: Iterable[str],
    partner_ids: Iterable[uuid.UUID] | None = None,
) -> Sequence[tuple[uuid.UUID, str, str, str]]:
    """(partner_id, kpi, month, value) of the given KPIs and months."""
    if is_postgres(session):
        sql = (
            "SELECT partner_id, kpi, period, value FROM rebate_kpi_aggregates "
            "WHERE kpi = ANY($1::text[]) AND period = ANY($2::text[])"
        )
        args: list[Any] = [list(kpis), list(months)]
        if partner_ids is not None:
            sql += " AND partner_id = ANY($3::uuid[])"
            args.append(list(partner_ids))
        return [tuple(r) for r in await fetch_postgres(session, sql, *args)]
    table = KpiAggregate.__table__  # type: ignore[attr-defined]
    query = sa.select(table.c.partner_id, table.c.kpi, table.c.period, table.c.value).where(
        table.c.kpi.in_(list(kpis)), table.c.period.in_(list(months))
    )
    if partner_ids is not None:
        query = query.where(table.c.partner_id.in_(list(partner_ids)))
    result = await session.execute(query)
    return [(r[0], r[1], r[2], r[3]) for r in result.all()]


async def insert_rows(session: SQLModelSession, *, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert of rows with the same keys (COPY on PostgreSQL)."""
    await copy_rows(session, table=model.__table__, rows=rows)


async def get_run(session: SQLModelSession, *, run_id: uuid.UUID) -> Run | None:
    """One run."""
    return await session.get(Run, run_id)


async def run_statements(
    session: SQLModelSession, *, run_id: uuid.UUID, partner_id: uuid.UUID | None
) -> Sequence[Statement]:
    """The statements a run created or recomputed."""
    query = select(Statement).where(Statement.run_id == run_id).order_by(col(Statement.id))
    if partner_id is not None:
        query = query.where(Statement.partner_id == partner_id)
    return (await session.exec(query)).all()


async def get_statement(
    session: SQLModelSession, *, statement_id: uuid.UUID, for_update: bool = False
) -> Statement | None:
    """One statement."""
    query = select(Statement).where(Statement.id == statement_id)
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


@dataclass(frozen=True)
class StatementFilters:
    """The filters of the statement list."""

    program_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None = None
    period: str | None = None
    status: str | None = None


async def list_statements(
    session: SQLModelSession, *, filters: StatementFilters, after: uuid.UUID | None, limit: int
) -> Sequence[Statement]:
    """Statements by id, filtered."""
    query = select(Statement).order_by(col(Statement.id)).limit(limit)
    for name in ("program_id", "partner_id", "period", "status"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(Statement, name) == value)
    if after is not None:
        query = query.where(col(Statement.id) > after)
    return (await session.exec(query)).all()


async def load_accruals(
    session: SQLModelSession, *, program_ids: Iterable[uuid.UUID], partner_ids: Iterable[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID, str], Accrual]:
    """Stored accruals of the given programs and partners, by key."""
    query = select(Accrual).where(
        col(Accrual.program_id).in_(list(program_ids)),
        col(Accrual.partner_id).in_(list(partner_ids)),
    )
    return {(a.program_id, a.partner_id, a.period): a for a in (await session.exec(query)).all()}


async def list_accruals(
    session: SQLModelSession,
    *,
    open_periods: dict[uuid.UUID, str],
    partner_id: uuid.UUID | None,
    after: tuple[uuid.UUID, uuid.UUID] | None,
    limit: int,
) -> Sequence[Accrual]:
    """Accruals of the given programs' open periods, by (program, partner)."""
    if not open_periods:
        return []
    query = (
        select(Accrual)
        .where(
            sa.or_(
                *(
                    sa.and_(col(Accrual.program_id) == program, col(Accrual.period) == period)
                    for program, period in open_periods.items()
                )
            )
        )
        .order_by(col(Accrual.program_id), col(Accrual.partner_id))
        .limit(limit)
    )
    if partner_id is not None:
        query = query.where(Accrual.partner_id == partner_id)
    if after is not None:
        query = query.where(keyset_after((col(Accrual.program_id), col(Accrual.partner_id)), after))
    return (await session.exec(query)).all()
