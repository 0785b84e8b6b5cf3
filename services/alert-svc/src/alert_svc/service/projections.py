"""Local projections fed by events: partners, per-period KPI aggregates and daily observation
counts. Each change that matters triggers the evaluation of the rules watching it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import structlog
from channel_common import Granularity, SQLModelSession, is_period, utcnow

from ..conditions import outside_territories
from ..consumed import AggregatesUpdated, ObservationsRecorded, PartnerSnapshot
from ..models import KpiValue, ObservationDay, PartnerReplica
from .evaluating import evaluate_aggregates, evaluate_observations
from .lifecycle import resolve_partner_alerts
from .views import to_micro

__all__ = ["apply_aggregates", "apply_partner_snapshot", "record_observations"]

_GRANULARITIES = frozenset({"day", "month"})
log = structlog.get_logger(__name__)


async def apply_partner_snapshot(session: SQLModelSession, *, snapshot: PartnerSnapshot) -> None:
    """Keep the snapshot if it is newer than ours (events may arrive out of order)."""
    partner = await session.get(PartnerReplica, snapshot.id)
    if partner is not None and partner.version >= snapshot.version:
        return
    values: dict[str, Any] = {
        "code": snapshot.code,
        "tier": snapshot.tier,
        "type": snapshot.type,
        "region": snapshot.region.upper(),
        "status": snapshot.status,
        "territories": [t.model_dump() for t in snapshot.territories],
        "version": snapshot.version,
    }
    if partner is None:
        session.add(PartnerReplica(id=snapshot.id, **values))
    else:
        for name, value in values.items():
            setattr(partner, name, value)
    await session.flush()
    if snapshot.status == "terminated":
        await resolve_partner_alerts(session, partner_id=snapshot.id, now=utcnow())


async def apply_aggregates(
    session: SQLModelSession, *, event: AggregatesUpdated, now: datetime
) -> None:
    """Keep the highest version of each (partner, KPI, period), then evaluate what changed."""
    touched: set[tuple[uuid.UUID, str, str]] = set()
    for update in event.updates:
        if update.granularity not in _GRANULARITIES:
            continue  # rules watch days and months only
        if not is_period(update.period, Granularity(update.granularity)):
            # One malformed entry must not poison the batch (and its redeliveries).
            log.warning("aggregate_skipped", period=update.period, granularity=update.granularity)
            continue
        key = (update.partner_id, update.kpi, update.granularity, update.period)
        row = await session.get(KpiValue, key)
        if row is not None and row.version >= update.version:
            continue
        if row is None:
            row = KpiValue(
                partner_id=update.partner_id,
                kpi=update.kpi,
                granularity=update.granularity,
                period=update.period,
                value_micro=0,
                version=update.version,
            )
            session.add(row)
        row.value_micro, row.count, row.version = (
            to_micro(update.value),
            update.count,
            update.version,
        )
        touched.add((update.partner_id, update.kpi, update.granularity))
    await session.flush()
    if touched:
        await evaluate_aggregates(session, keys=touched, now=now)


async def record_observations(
    session: SQLModelSession, *, event: ObservationsRecorded, today: date, now: datetime
) -> None:
    """Count observations per (partner, KPI, day), and those outside the partner's territories
    (judged against the territories we know now), then evaluate what they affect."""
    partners: dict[uuid.UUID, PartnerReplica | None] = {}
    days: dict[tuple[uuid.UUID, str, date], ObservationDay] = {}
    for obs in event.observations:
        if obs.partner_id not in partners:
            partners[obs.partner_id] = await session.get(PartnerReplica, obs.partner_id)
        partner = partners[obs.partner_id]
        key = (obs.partner_id, obs.kpi, obs.occurred_on)
        if key not in days:
            days[key] = await session.get(ObservationDay, key) or ObservationDay(
                partner_id=obs.partner_id, kpi=obs.kpi, occurred_on=obs.occurred_on
            )
            session.add(days[key])
        day = days[key]
        day.observed += 1
        if partner is not None:
            covered = [t["region"] for t in partner.territories] or [partner.region]
            if outside_territories(obs.region, covered):
                day.outside += 1
    await session.flush()
    touched = {(k[0], k[1]) for k in days}
    if touched:
        await evaluate_observations(session, touched=touched, today=today, now=now)
