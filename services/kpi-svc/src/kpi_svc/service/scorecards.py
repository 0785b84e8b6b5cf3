"""The scorecard: a partner's KPIs for a period against their most specific targets."""

from __future__ import annotations

import uuid
from collections import defaultdict

from channel_common import NotFoundError, Principal, SQLModelSession, ensure_partner_visible

from .. import repo
from ..aggregation import AggregateState, Aggregation, merge_all
from ..scaled import from_micro
from ..schemas import Scorecard, ScorecardComponent
from ..scoring import Component, ScopedTarget, health_score, resolve_target
from .queries import parse_query_period, source_granularity

__all__ = ["get_scorecard"]


async def get_scorecard(
    session: SQLModelSession, *, partner_id: uuid.UUID, period: str, principal: Principal
) -> Scorecard:
    """Every KPI of the partner for the period against its most specific target."""
    ensure_partner_visible(principal, partner_id, "Partner")
    partner = await repo.get_partner(session, partner_id=partner_id)
    if partner is None:
        raise NotFoundError("Partner not found.")
    current = parse_query_period(period, "period")
    definitions = await repo.all_definitions(session)
    source = source_granularity(current.granularity)
    rows = await repo.aggregate_rows(
        session,
        granularity=source.value,
        periods=[str(part) for part in current.parts(source)],
        partner_id=partner_id,
    )
    states: dict[str, list[AggregateState]] = defaultdict(list)
    for row in rows:
        states[row.kpi].append(row.state)
    candidates: dict[str, list[ScopedTarget]] = defaultdict(list)
    for target in await repo.targets_for_period(session, period=str(current)):
        candidates[target.kpi].append(
            ScopedTarget(target.scope_kind, target.scope_value, from_micro(target.value_micro))
        )
    components = []
    for key in sorted(definitions):
        definition = definitions[key]
        measured = states.get(key)
        chosen = resolve_target(
            candidates.get(key, []),
            partner_id=str(partner.id),
            tier=partner.tier,
            region=partner.region,
        )
        components.append(
            Component(
                kpi=key,
                value=(
                    merge_all(measured).value(Aggregation(definition.aggregation))
                    if measured
                    else None
                ),
                target=None if chosen is None else chosen.value,
                weight=from_micro(definition.weight_micro),
                higher_is_better=definition.higher_is_better,
            )
        )
    score, scored = health_score(components)
    return Scorecard(
        partner_id=partner_id,
        period=str(current),
        health_score=score,
        components=[
            ScorecardComponent(
                kpi=c.kpi,
                value=c.value,
                target=c.target,
                attainment=c.attainment,
                weight=c.weight,
                contribution=c.contribution,
            )
            for c in scored
        ],
    )
