"""Evaluation of alert conditions on a series of business periods: no I/O, Decimal only.

What each type checks lives in its module under `conditions/`; this module runs any of them
over a window of `for_periods` periods and says the result in words. No data is never a
breach nor a recovery: only conditions judged on elapsed days look at gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from channel_common import Granularity, format_decimal, is_period, parse_period, period_of

from .conditions import Condition, ConditionBase, ElapsedCondition, RuleGranularity, Series

__all__ = [
    "Evaluation",
    "Series",
    "describe",
    "evaluate_absence",
    "evaluate_series",
    "needed_periods",
]


@dataclass(frozen=True)
class Evaluation:
    """The condition at `period`: `holds` for that period, `firing` once it held for the
    required consecutive periods; `summary` says it in words."""

    period: str
    holds: bool | None
    firing: bool
    value: Decimal | None
    summary: str


def needed_periods(
    condition: Condition, *, period: str, granularity: RuleGranularity, for_periods: int
) -> list[str]:
    """Every period whose value `evaluate_series` may read to evaluate `period`."""
    window = _window(period, granularity, for_periods)
    needed = set(window)
    for p in window:
        needed.update(condition.earlier_periods(p, granularity))
    return sorted(p for p in needed if is_period(p))


def _window(period: str, granularity: RuleGranularity, for_periods: int) -> list[str]:
    """`period` and the `for_periods - 1` periods before it, latest first; a window reaching
    before the first period the wire format has (1901) stops there: no data can be earlier."""
    current = parse_period(period, Granularity(granularity))
    shifted = (str(current.shifted(-n)) for n in range(for_periods))
    return [p for p in shifted if is_period(p)]


def evaluate_series(
    condition: Condition,
    series: Series,
    *,
    period: str,
    granularity: RuleGranularity,
    for_periods: int,
    kpi: str,
) -> Evaluation:
    """The condition at `period`, firing when it held for `for_periods` consecutive periods
    ending there (a period without data breaks the run)."""
    verdict = condition.check(series, period=period, granularity=granularity)
    window = _window(period, granularity, for_periods)
    firing = (
        verdict.holds is True
        and len(window) == for_periods
        and all(
            condition.check(series, period=p, granularity=granularity).holds is True
            for p in window[1:]
        )
    )
    text = describe(condition, kpi=kpi, granularity=granularity, for_periods=for_periods)
    if verdict.value is None:
        summary = f"{text} (no data for {period})"
    else:
        summary = f"{text} ({condition.noun} {format_decimal(verdict.value)} in {period})"
    return Evaluation(
        period=period, holds=verdict.holds, firing=firing, value=verdict.value, summary=summary
    )


def evaluate_absence(
    condition: ElapsedCondition,
    *,
    last_seen: date | None,
    since: date,
    today: date,
    granularity: RuleGranularity,
    kpi: str,
) -> Evaluation:
    """A condition on elapsed days, as of `today`: the full days passed after the last
    observation seen, or after `since` (when watching began) if none was ever seen."""
    reference = last_seen if last_seen is not None else since
    silent_days = (today - reference).days - (1 if last_seen is not None else 0)
    holds = condition.overdue(silent_days)
    text = describe(condition, kpi=kpi, granularity=granularity, for_periods=1)
    seen = f"last seen {last_seen.isoformat()}" if last_seen else "never seen"
    return Evaluation(
        period=str(period_of(today, Granularity(granularity))),
        holds=holds,
        firing=holds,
        value=Decimal(max(silent_days, 0)),
        summary=f"{text} ({seen})",
    )


def describe(
    condition: ConditionBase, *, kpi: str, granularity: RuleGranularity, for_periods: int
) -> str:
    """The condition in words, with the run of periods it needs."""
    text = condition.describe(kpi=kpi, granularity=granularity)
    if for_periods > 1 and not condition.single_period:
        text += f" for {for_periods} consecutive {granularity}s"
    return text
