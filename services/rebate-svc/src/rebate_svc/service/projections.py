"""Local projections fed by events: the partner replica and monthly KPI aggregates."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from channel_common import SQLModelSession

from .. import repo
from ..consumed import AggregatesUpdated, AggregateUpdate, PartnerSnapshot
from .accruals import refresh_accruals

__all__ = ["apply_aggregates", "apply_partner"]


async def apply_partner(
    session: SQLModelSession,
    *,
    snapshot: PartnerSnapshot,
    today: date,
    volume_kpis: tuple[str, ...],
    event_chunk: int = 500,
) -> None:
    """Keep the partner snapshot with the highest version, then refresh its accruals: figures
    that arrived before the partner (or before it became eligible) count from now on."""
    await repo.upsert_partner(session, row=snapshot.model_dump())
    await session.flush()
    touched = await repo.aggregate_keys(session, partner_id=snapshot.id)
    if touched:
        await refresh_accruals(
            session,
            touched=touched,
            today=today,
            volume_kpis=volume_kpis,
            event_chunk=event_chunk,
        )


async def apply_aggregates(
    session: SQLModelSession,
    *,
    data: AggregatesUpdated,
    today: date,
    volume_kpis: tuple[str, ...],
    event_chunk: int = 500,
    granularity: Literal["month"] = "month",
) -> None:
    """Keep the highest version of each monthly aggregate, then refresh the touched accruals."""
    newest: dict[tuple[uuid.UUID, str, str], AggregateUpdate] = {}
    for update in data.updates:
        if update.granularity != granularity:
            continue
        key = (update.partner_id, update.kpi, update.period)
        if key not in newest or newest[key].version < update.version:
            newest[key] = update
    rows = [
        {
            "partner_id": u.partner_id,
            "kpi": u.kpi,
            "period": u.period,
            "value": str(u.value),
            "version": u.version,
        }
        for u in newest.values()
    ]
    await repo.upsert_aggregates(session, rows=rows)
    await session.flush()
    if newest:
        await refresh_accruals(
            session,
            touched=set(newest),
            today=today,
            volume_kpis=volume_kpis,
            event_chunk=event_chunk,
        )
