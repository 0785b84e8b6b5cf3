"""`anomaly`: the value lies more than `zscore` standard deviations from the trailing periods."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from channel_common import ExactInt, Granularity, format_decimal, parse_period
from pydantic import Field

from .base import Basis, ConditionBase, DecimalIn, RuleGranularity, Series, Verdict

__all__ = ["AnomalyCondition"]


class AnomalyCondition(ConditionBase):
    """The value lies more than `zscore` standard deviations from the trailing periods."""

    basis: ClassVar[Basis] = "aggregates"

    type: Literal["anomaly"]
    lookback: ExactInt = Field(ge=2, le=366)
    zscore: DecimalIn = Field(gt=0)

    def earlier_periods(self, period: str, granularity: RuleGranularity) -> set[str]:
        """The `lookback` periods before."""
        return set(self._trailing(period, granularity))

    def _trailing(self, period: str, granularity: RuleGranularity) -> list[str]:
        current = parse_period(period, Granularity(granularity))
        return [str(current.shifted(-n)) for n in range(1, self.lookback + 1)]

    def check(self, series: Series, *, period: str, granularity: RuleGranularity) -> Verdict:
        """The value's distance from the trailing mean, in standard deviations."""
        value = series.get(period)
        if value is None:
            return Verdict(None, None)
        history = [series[p] for p in self._trailing(period, granularity) if p in series]
        if len(history) < 2:
            return Verdict(None, value)
        mean = sum(history, Decimal(0)) / len(history)
        variance = sum(((x - mean) ** 2 for x in history), Decimal(0)) / len(history)
        if variance == 0:
            return Verdict(False, value)  # a flat history gives no scale to measure against
        deviation = abs(value - mean) / variance.sqrt()
        return Verdict(deviation > self.zscore, value)

    def describe(self, *, kpi: str, granularity: RuleGranularity) -> str:
        """`sales_amount deviates more than 3 standard deviations from the previous 6 months`."""
        return (
            f"{kpi} deviates more than {format_decimal(self.zscore)} standard deviations "
            f"from the previous {self.lookback} {granularity}s"
        )
