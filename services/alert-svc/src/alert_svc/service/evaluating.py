"""Evaluating rules on the projections: series rules when aggregates change, observation
rules when observations arrive, absence in the periodic sweep, and a new rule right away.

State follows the latest period with data: late data for an older period re-evaluates that
period's effect on the latest window (for_periods, the previous period, the anomaly history).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from channel_common import SQLModelSession

from .. import repo
from ..conditions import AbsenceCondition
from ..evaluation import Evaluation, evaluate_absence, evaluate_series, needed_periods
from ..models import AlertRule, PartnerReplica
from ..periods import Granularity, period_bounds, period_of
from .lifecycle import apply_evaluation, in_scope
from .views import condition_of, from_micro

__all__ = [
    "SERIES_TYPES",
    "evaluate_aggregates",
    "evaluate_observations",
    "evaluate_rule",
    "sweep_absence",
]

SERIES_TYPES = ("threshold", "change", "anomaly")
_OBSERVATION_TYPES = ("out_of_territory", "absence")


def _granularity(rule: AlertRule) -> Granularity:
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
            rules[kpi] = list(await repo.enabled_rules(session, types=SERIES_TYPES, kpi=kpi))
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
    """Evaluate a threshold, change or anomaly rule at the latest period with a value."""
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
    first, last = period_bounds(periods[0])[0], period_bounds(periods[-1])[1]
    days = await repo.observation_days(
        session, partner_id=partner_id, kpi=rule.kpi, first=first, last=last
    )
    series: dict[str, Decimal] = {}
    for day in days:
        if day.observed:
            key = period_of(day.occurred_on, _granularity(rule))
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
    """Evaluate an out-of-territory rule at the period of the latest observation, or an
    absence rule as of `today`."""
    if not in_scope(rule, partner_id, partner):
        return
    seen = await repo.last_seen(session, partner_id=partner_id, kpi=rule.kpi)
    if rule.condition_type == "absence":
        ev = _absence(rule, partner, seen, today)
    elif seen is None:
        return
    else:
        granularity = _granularity(rule)
        period = period_of(seen, granularity)
        condition = condition_of(rule)
        periods = needed_periods(
            condition, period=period, granularity=granularity, for_periods=rule.for_periods
        )
        series = await _outside_series(session, rule=rule, partner_id=partner_id, periods=periods)
        ev = evaluate_series(
            condition,
            series,
            period=period,
            granularity=granularity,
            for_periods=rule.for_periods,
            kpi=rule.kpi,
        )
    await apply_evaluation(
        session, rule=rule, partner_id=partner_id, partner=partner, evaluation=ev, now=now
    )


def _absence(
    rule: AlertRule, partner: PartnerReplica | None, seen: date | None, today: date
) -> Evaluation:
    condition = condition_of(rule)
    assert isinstance(condition, AbsenceCondition)
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
    """Evaluate out-of-territory and absence rules for (partner, KPI) pairs that got data."""
    touched = sorted(set(touched), key=str)
    known = await repo.partners(session, ids={t[0] for t in touched})
    rules: dict[str, list[AlertRule]] = {}
    for partner_id, kpi in touched:
        if kpi not in rules:
            rules[kpi] = list(await repo.enabled_rules(session, types=_OBSERVATION_TYPES, kpi=kpi))
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
    """Evaluate every absence rule for every active partner in its scope."""
    rules = await repo.enabled_rules(session, types=("absence",))
    if not rules:
        return
    active = [p for p in (await repo.partners(session)).values() if p.status == "active"]
    for rule in rules:
        for partner in active:
            await _evaluate_observation_rule(
                session, rule=rule, partner_id=partner.id, partner=partner, today=today, now=now
            )


async def evaluate_rule(session: SQLModelSession, *, rule: AlertRule, now: datetime) -> None:
    """Evaluate a new or changed rule on the data already there (absence waits for the
    sweep, which judges time passing)."""
    if not rule.enabled or rule.condition_type == "absence":
        return
    partner_ids = await repo.partners_with_data(
        session,
        kpi=rule.kpi,
        granularity=rule.granularity if rule.condition_type in SERIES_TYPES else None,
    )
    known = await repo.partners(session, ids=partner_ids)
    for partner_id in partner_ids:
        partner = known.get(partner_id)
        if rule.condition_type in SERIES_TYPES:
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
