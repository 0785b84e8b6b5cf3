"""`threshold`: the period's value compared with a fixed value."""

from __future__ import annotations

from typing import ClassVar, Literal

from channel_common import format_decimal

from .base import Basis, ConditionBase, DecimalIn, RuleGranularity, Series, Verdict, compare

__all__ = ["ThresholdCondition"]

_SYMBOLS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class ThresholdCondition(ConditionBase):
    """The period's value compared with a fixed value."""

    basis: ClassVar[Basis] = "aggregates"

    type: Literal["threshold"]
    op: Literal["lt", "lte", "gt", "gte"]
    value: DecimalIn

    def check(self, series: Series, *, period: str, granularity: RuleGranularity) -> Verdict:
        """The period's value against `value`."""
        value = series.get(period)
        if value is None:
            return Verdict(None, None)
        return Verdict(compare(self.op, value, self.value), value)

    def describe(self, *, kpi: str, granularity: RuleGranularity) -> str:
        """`sales_amount < 1000`."""
        return f"{kpi} {_SYMBOLS[self.op]} {format_decimal(self.value)}"
