"""Pure evaluation of alert conditions on a series of business periods: no I/O, Decimal only.

A series maps a period to its value; a period missing from it has no data. No data is never a
breach nor a recovery: only `absence` looks at gaps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .conditions import (
    AbsenceCondition,
    AnomalyCondition,
    ChangeCondition,
    Condition,
    OutOfTerritoryCondition,
    ThresholdCondition,
    format_decimal,
)
from .periods import Granularity, period_of, previous_period, shift_periods, year_ago

__all__ = [
    "Evaluation",
    "Series",
    "Verdict",
    "check_period",
    "describe",
    "evaluate_absence",
    "evaluate_series",
    "needed_periods",
    "outside_territories",
]

Series = Mapping[str, Decimal]
_SYMBOLS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


@dataclass(frozen=True)
class Verdict:
    """Whether the condition holds for one period (None: no data to say), and the value."""

    holds: bool | None
    value: Decimal | None


@dataclass(frozen=True)
class Evaluation:
    """The condition at `period`: `holds` for that period, `firing` once it held for the
    required consecutive periods; `summary` says it in words."""

    period: str
    holds: bool | None
    firing: bool
    value: Decimal | None
    summary: str


def _compare(op: str, left: Decimal, right: Decimal) -> bool:
    if op == "lt":
        return left < right
    if op == "lte":
        return left <= right
    if op == "gt":
        return left > right
    return left >= right


def needed_periods(
    condition: Condition, *, period: str, granularity: Granularity, for_periods: int
) -> list[str]:
    """Every period whose value `evaluate_series` may read to evaluate `period`."""
    window = [shift_periods(period, granularity, -n) for n in range(for_periods)]
    needed = set(window)
    for p in window:
        if isinstance(condition, ChangeCondition):
            needed.add(
                previous_period(p, granularity)
                if condition.compare_to == "previous"
                else year_ago(p, granularity)
            )
        elif isinstance(condition, AnomalyCondition):
            needed.update(
                shift_periods(p, granularity, -n) for n in range(1, condition.lookback + 1)
            )
    return sorted(needed)


def check_period(
    condition: Condition, series: Series, *, period: str, granularity: Granularity
) -> Verdict:
    """Whether `condition` holds for `period` alone."""
    value = series.get(period)
    if value is None or isinstance(condition, AbsenceCondition):
        return Verdict(None, value)
    if isinstance(condition, ThresholdCondition):
        return Verdict(_compare(condition.op, value, condition.value), value)
    if isinstance(condition, OutOfTerritoryCondition):
        return Verdict(value > 0, value)
    if isinstance(condition, ChangeCondition):
        earlier = series.get(
            previous_period(period, granularity)
            if condition.compare_to == "previous"
            else year_ago(period, granularity)
        )
        if earlier is None or earlier == 0:
            return Verdict(None, value)  # a change against nothing is undefined
        change = (value - earlier) / earlier
        return Verdict(_compare(condition.op, change, condition.pct), value)
    return _check_anomaly(condition, series, period=period, granularity=granularity)


def _check_anomaly(
    condition: AnomalyCondition, series: Series, *, period: str, granularity: Granularity
) -> Verdict:
    value = series[period]
    history = [
        series[p]
        for n in range(1, condition.lookback + 1)
        if (p := shift_periods(period, granularity, -n)) in series
    ]
    if len(history) < 2:
        return Verdict(None, value)
    mean = sum(history, Decimal(0)) / len(history)
    variance = sum(((x - mean) ** 2 for x in history), Decimal(0)) / len(history)
    if variance == 0:
        return Verdict(False, value)  # a flat history gives no scale to measure against
    deviation = abs(value - mean) / variance.sqrt()
    return Verdict(deviation > condition.zscore, value)


def evaluate_series(
    condition: Condition,
    series: Series,
    *,
    period: str,
    granularity: Granularity,
    for_periods: int,
    kpi: str,
) -> Evaluation:
    """The condition at `period`, firing when it held for `for_periods` consecutive periods
    ending there (a period without data breaks the run)."""
    verdict = check_period(condition, series, period=period, granularity=granularity)
    firing = verdict.holds is True and all(
        check_period(
            condition,
            series,
            period=shift_periods(period, granularity, -n),
            granularity=granularity,
        ).holds
        is True
        for n in range(1, for_periods)
    )
    return Evaluation(
        period=period,
        holds=verdict.holds,
        firing=firing,
        value=verdict.value,
        summary=_summary(condition, kpi, granularity, for_periods, period, verdict.value),
    )


def evaluate_absence(
    condition: AbsenceCondition,
    *,
    last_seen: date | None,
    since: date,
    today: date,
    granularity: Granularity,
    kpi: str,
) -> Evaluation:
    """Absence holds once `days` full days passed without an observation: after the last one
    seen, or after `since` (when watching began) if none was ever seen."""
    reference = last_seen if last_seen is not None else since
    silent_days = (today - reference).days - (1 if last_seen is not None else 0)
    holds = silent_days >= condition.days
    value = Decimal(max(silent_days, 0))
    text = describe(condition, kpi=kpi, granularity=granularity, for_periods=1)
    seen = f"last seen {last_seen.isoformat()}" if last_seen else "never seen"
    return Evaluation(
        period=period_of(today, granularity),
        holds=holds,
        firing=holds,
        value=value,
        summary=f"{text} ({seen})",
    )


def outside_territories(region: str | None, territories: Sequence[str]) -> bool | None:
    """Whether a sale in `region` lies outside every territory (`CN-GD` contains `CN-GD-SZ`);
    None when the region is unknown or there is nothing to compare with."""
    if not region or not territories:
        return None
    wanted = region.upper()
    return not any(wanted == t.upper() or wanted.startswith(t.upper() + "-") for t in territories)


def describe(condition: Condition, *, kpi: str, granularity: Granularity, for_periods: int) -> str:
    """The condition in words."""
    if isinstance(condition, ThresholdCondition):
        text = f"{kpi} {_SYMBOLS[condition.op]} {format_decimal(condition.value)}"
    elif isinstance(condition, ChangeCondition):
        base = (
            f"the previous {granularity}"
            if condition.compare_to == "previous"
            else f"the same {granularity} a year before"
        )
        pct = format_decimal(abs(condition.pct) * 100)
        if condition.op == "lt" and condition.pct <= 0:
            text = f"{kpi} fell by more than {pct}% against {base}"
        elif condition.op == "gt" and condition.pct >= 0:
            text = f"{kpi} rose by more than {pct}% against {base}"
        else:
            word = "less" if condition.op == "lt" else "more"
            signed = format_decimal(condition.pct * 100)
            text = f"{kpi} changed by {word} than {signed}% against {base}"
    elif isinstance(condition, AbsenceCondition):
        return f"no {kpi} observation for {condition.days} days"
    elif isinstance(condition, AnomalyCondition):
        text = (
            f"{kpi} deviates more than {format_decimal(condition.zscore)} standard deviations "
            f"from the previous {condition.lookback} {granularity}s"
        )
    else:
        text = f"{kpi} reported in a region outside the partner's territories"
    if for_periods > 1:
        text += f" for {for_periods} consecutive {granularity}s"
    return text


def _summary(
    condition: Condition,
    kpi: str,
    granularity: Granularity,
    for_periods: int,
    period: str,
    value: Decimal | None,
) -> str:
    text = describe(condition, kpi=kpi, granularity=granularity, for_periods=for_periods)
    if value is None:
        return f"{text} (no data for {period})"
    noun = "sales outside" if isinstance(condition, OutOfTerritoryCondition) else "value"
    return f"{text} ({noun} {format_decimal(value)} in {period})"
