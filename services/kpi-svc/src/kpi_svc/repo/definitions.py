"""Queries of KPI definitions and targets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from channel_common import SQLModelSession, keyset_after
from sqlmodel import col, select

from ..models import AGGREGATES, TARGET_REVISION, TARGETS, KpiDefinition, Target
from ._sql import dialect_insert


async def get_definition(
    session: SQLModelSession, *, key: str, for_update: bool = False
) -> KpiDefinition | None:
    """The definition of `key`, if any; `for_update` locks its row until the transaction ends
    (PostgreSQL; SQLite transactions are already serialised)."""
    if for_update:
        return await session.get(KpiDefinition, key, with_for_update=True, populate_existing=True)
    return await session.get(KpiDefinition, key)


async def all_definitions(session: SQLModelSession) -> dict[str, KpiDefinition]:
    """Every definition by key (a small table)."""
    rows = (await session.exec(select(KpiDefinition))).all()
    return {row.key: row for row in rows}


async def list_definitions(
    session: SQLModelSession, *, after: str | None, limit: int
) -> list[KpiDefinition]:
    """Definitions by key, after `after`, at most `limit`."""
    query = select(KpiDefinition).order_by(col(KpiDefinition.key)).limit(limit)
    if after is not None:
        query = query.where(col(KpiDefinition.key) > after)
    return list((await session.exec(query)).all())


async def kpi_in_use(session: SQLModelSession, *, key: str) -> bool:
    """Whether any observation of `key` is stored (its aggregates exist exactly when its
    observations do, and they are indexed by KPI)."""
    query = sa.select(AGGREGATES.c.kpi).where(AGGREGATES.c.kpi == key).limit(1)
    return (await session.execute(query)).first() is not None


async def upsert_targets(session: SQLModelSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """Set each (kpi, period, scope)'s target value."""
    statement = dialect_insert(session, TARGETS)
    statement = statement.on_conflict_do_update(
        index_elements=[
            TARGETS.c.kpi,
            TARGETS.c.period,
            TARGETS.c.scope_kind,
            TARGETS.c.scope_value,
        ],
        set_={
            "value_micro": statement.excluded.value_micro,
            "updated_at": statement.excluded.updated_at,
        },
    )
    await session.execute(statement, list(rows))


async def list_targets(
    session: SQLModelSession,
    *,
    kpi: str | None,
    period: str | None,
    visible_to: uuid.UUID | None,
    after: tuple[str, str, str, str] | None,
    limit: int,
) -> list[Target]:
    """Targets by key; `visible_to` hides the targets of other partners."""
    key = (
        col(Target.kpi),
        col(Target.period),
        col(Target.scope_kind),
        col(Target.scope_value),
    )
    query = select(Target).order_by(*key).limit(limit)
    if kpi is not None:
        query = query.where(col(Target.kpi) == kpi)
    if period is not None:
        query = query.where(col(Target.period) == period)
    if visible_to is not None:
        query = query.where(
            sa.or_(col(Target.scope_kind) != "partner", col(Target.scope_value) == str(visible_to))
        )
    if after is not None:
        query = query.where(keyset_after(key, after))
    return list((await session.exec(query)).all())


async def targets_for_period(session: SQLModelSession, *, period: str) -> list[Target]:
    """Every target set for exactly `period`."""
    query = select(Target).where(col(Target.period) == period)
    return list((await session.exec(query)).all())


async def bump_target_revision(session: SQLModelSession) -> int:
    """Raise the target set's revision by one; the new revision. The update holds the row
    (PostgreSQL) or the database (SQLite) until the transaction ends, so writers queue here."""
    statement = (
        TARGET_REVISION.update()
        .where(TARGET_REVISION.c.id == 1)
        .values(revision=TARGET_REVISION.c.revision + 1)
        .returning(TARGET_REVISION.c.revision)
    )
    return int((await session.execute(statement)).scalar_one())


async def target_revision(session: SQLModelSession) -> int:
    """The target set's current revision."""
    query = sa.select(TARGET_REVISION.c.revision).where(TARGET_REVISION.c.id == 1)
    return int((await session.execute(query)).scalar_one())
