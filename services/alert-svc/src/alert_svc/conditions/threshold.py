"""`threshold`: the period's value compared with a fixed value."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..periods import Granularity
from .base import Basis, ConditionBase, Series, Verdict, compare
from .decimals import DecimalIn, format_decimal

__all__ = ["ThresholdCondition"]

_SYMBOLS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class ThresholdCondition(ConditionBase):
    """The period's value compared with a fixed value."""

    basis: ClassVar[Basis] = "aggregates"

    type: Literal["threshold"]
    op: Literal["lt", "lte", "gt", "gte"]
    value: DecimalIn

    def check(self, series: Series, *, period: str, granularity: Granularity) -> Verdict:
        """The period's value against `value`."""
        value = series.get(period)
        if value is None:
            return Verdict(None, None)
        return Verdict(compare(self.op, value, self.value), value)

    def describe(self, *, kpi: str, granularity: Granularity) -> str:
        """`sales_amount < 1000`."""
        return f"{kpi} {_SYMBOLS[self.op]} {format_decimal(self.value)}"
