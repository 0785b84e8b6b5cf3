"""Evaluating rules on the projections, by what their condition is judged on (its `basis`):
aggregates when they change, observations when they arrive, elapsed days (absence) also in
the periodic sweep; and a new rule right away.

State follows the latest period with data: late data for an older period re-evaluates that
period's effect on the latest window (for_periods, the previous period, the anomaly history).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import assert_never

from channel_common import Granularity, SQLModelSession, parse_period, period_of

from .. import repo
from ..conditions import Condition, ElapsedCondition, RuleGranularity, types_on
from ..evaluation import Evaluation, evaluate_absence, evaluate_series, needed_periods
from ..models import AlertRule, PartnerReplica
from .lifecycle import apply_evaluation, in_scope
from .views import condition_of, from_micro

__all__ = [
    "evaluate_aggregates",
    "evaluate_observations",
    "evaluate_rule",
    "sweep_absence",
]

# Which rules each trigger evaluates, by what their condition is judged on.
_ON_AGGREGATES = types_on("aggregates")
_ON_OBSERVATIONS = types_on("observations", "elapsed")
_ON_ELAPSED = types_on("elapsed")


def _granularity(rule: AlertRule) -> RuleGranularity:
    return "day" if rule.granularity == "day" else "month"


async def evaluate_aggregates(
    session: SQLModelSession, *, keys: Iterable[tuple[uuid.UUID, str, str]], now: datetime
) -> None:
    """Evaluate the series rules of each touched (partner, KPI, granularity)."""
    keys = sorted(set(keys), key=str)
    known = await repo.partners(session, ids={k[0] for k in keys})
    rules: dict[str, list[AlertRule]] = {}
    for partner_id, kpi, granularity in keys:
        if kpi not in rules:
            rules[kpi] = list(await repo.enabled_rules(session, types=_ON_AGGREGATES, kpi=kpi))
        for rule in rules[kpi]:
            if rule.granularity == granularity:
                await _evaluate_series_rule(
                    session,
                    rule=rule,
                    partner_id=partner_id,
                    partner=known.get(partner_id),
                    now=now,
                )


async def _evaluate_series_rule(
    session: SQLModelSession,
    *,
    rule: AlertRule,
    partner_id: uuid.UUID,
    partner: PartnerReplica | None,
    now: datetime,
) -> None:
    """Evaluate a rule judged on aggregates at the latest period with a value."""
    if not in_scope(rule, partner_id, partner):
        return
    latest = await repo.latest_period(
        session, partner_id=partner_id, kpi=rule.kpi, granularity=rule.granularity
    )
    if latest is None:
        return
    condition, granularity = condition_of(rule), _granularity(rule)
    periods = needed_periods(
        condition, period=latest, granularity=granularity, for_periods=rule.for_periods
    )
    found = await repo.kpi_values(
        session, partner_id=partner_id, kpi=rule.kpi, granularity=granularity, periods=periods
    )
    series = {p: from_micro(v) for p, v in found.items()}
    ev = evaluate_series(
        condition,
        series,
        period=latest,
        granularity=granularity,
        for_periods=rule.for_periods,
        kpi=rule.kpi,
    )
    await apply_evaluation(
        session, rule=rule, partner_id=partner_id, partner=partner, evaluation=ev, now=now
    )


async def _outside_series(
    session: SQLModelSession, *, rule: AlertRule, partner_id: uuid.UUID, periods: list[str]
) -> dict[str, Decimal]:
    """Sales outside the territories per period (0 where all sales were inside)."""
    granularity = Granularity(_granularity(rule))
    first = parse_period(periods[0], granularity).start
    last = parse_period(periods[-1], granularity).end
    days = await repo.observation_days(
        session, partner_id=partner_id, kpi=rule.kpi, first=first, last=last
    )
    series: dict[str, Decimal] = {}
    for day in days:
        if day.observed:
            key = str(period_of(day.occurred_on, granularity))
            series[key] = series.get(key, Decimal(0)) + day.outside
    return series


async def _evaluate_observation_rule(
    session: SQLModelSession,
    *,
    rule: AlertRule,
    partner_id: uuid.UUID,
    partner: PartnerReplica | None,
    today: date,
    now: datetime,
) -> None:
    """Evaluate a rule judged on observations at the period of the latest one, or a rule
    judged on elapsed days as of `today`."""
    if not in_scope(rule, partner_id, partner):
        return
    seen = await repo.last_seen(session, partner_id=partner_id, kpi=rule.kpi)
    condition = condition_of(rule)
    if isinstance(condition, ElapsedCondition):
        ev = _elapsed(rule, condition, partner, seen, today)
    elif seen is None:
        return
    else:
        ev = await _evaluate_on_observations(
            session, rule=rule, condition=condition, partner_id=partner_id, seen=seen
        )
    await apply_evaluation(
        session, rule=rule, partner_id=partner_id, partner=partner, evaluation=ev, now=now
    )


async def _evaluate_on_observations(
    session: SQLModelSession,
    *,
    rule: AlertRule,
    condition: Condition,
    partner_id: uuid.UUID,
    seen: date,
) -> Evaluation:
    granularity = _granularity(rule)
    period = str(period_of(seen, Granularity(granularity)))
    periods = needed_periods(
        condition, period=period, granularity=granularity, for_periods=rule.for_periods
    )
    series = await _outside_series(session, rule=rule, partner_id=partner_id, periods=periods)
    return evaluate_series(
        condition,
        series,
        period=period,
        granularity=granularity,
        for_periods=rule.for_periods,
        kpi=rule.kpi,
    )


def _elapsed(
    rule: AlertRule,
    condition: ElapsedCondition,
    partner: PartnerReplica | None,
    seen: date | None,
    today: date,
) -> Evaluation:
    since = rule.created_at.date()
    if partner is not None:
        since = max(since, partner.first_seen_at.date())
    return evaluate_absence(
        condition,
        last_seen=seen,
        since=since,
        today=today,
        granularity=_granularity(rule),
        kpi=rule.kpi,
    )


async def evaluate_observations(
    session: SQLModelSession,
    *,
    touched: Iterable[tuple[uuid.UUID, str]],
    today: date,
    now: datetime,
) -> None:
    """Evaluate the rules judged on observations or elapsed days for (partner, KPI) pairs
    that got data."""
    touched = sorted(set(touched), key=str)
    known = await repo.partners(session, ids={t[0] for t in touched})
    rules: dict[str, list[AlertRule]] = {}
    for partner_id, kpi in touched:
        if kpi not in rules:
            rules[kpi] = list(await repo.enabled_rules(session, types=_ON_OBSERVATIONS, kpi=kpi))
        for rule in rules[kpi]:
            await _evaluate_observation_rule(
                session,
                rule=rule,
                partner_id=partner_id,
                partner=known.get(partner_id),
                today=today,
                now=now,
            )


async def sweep_absence(session: SQLModelSession, *, today: date, now: datetime) -> None:
    """Evaluate every rule judged on elapsed days for every active partner in its scope."""
    rules = await repo.enabled_rules(session, types=_ON_ELAPSED)
    if not rules:
        return
    active = [p for p in (await repo.partners(session)).values() if p.status == "active"]
    for rule in rules:
        for partner in active:
            await _evaluate_observation_rule(
                session, rule=rule, partner_id=partner.id, partner=partner, today=today, now=now
            )


async def evaluate_rule(session: SQLModelSession, *, rule: AlertRule, now: datetime) -> None:
    """Evaluate a new or changed rule on the data already there (a rule judged on elapsed
    days waits for the sweep, which judges time passing)."""
    if not rule.enabled:
        return
    basis = condition_of(rule).basis
    match basis:
        case "elapsed":
            return
        case "aggregates":
            granularity: str | None = rule.granularity
        case "observations":
            granularity = None
        case _:
            assert_never(basis)
    partner_ids = await repo.partners_with_data(session, kpi=rule.kpi, granularity=granularity)
    known = await repo.partners(session, ids=partner_ids)
    for partner_id in partner_ids:
        partner = known.get(partner_id)
        if basis == "aggregates":
            await _evaluate_series_rule(
                session, rule=rule, partner_id=partner_id, partner=partner, now=now
            )
        else:
            await _evaluate_observation_rule(
                session,
                rule=rule,
                partner_id=partner_id,
                partner=partner,
                today=now.date(),
                now=now,
            )
