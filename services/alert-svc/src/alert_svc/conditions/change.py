"""`change`: the relative change against the previous period or the same period a year before."""

from __future__ import annotations

from typing import ClassVar, Literal

from channel_common import Granularity, ValidationFailedError, format_decimal, parse_period
from pydantic import Field

from .base import Basis, ConditionBase, DecimalIn, RuleGranularity, Series, Verdict, compare

__all__ = ["ChangeCondition"]


class ChangeCondition(ConditionBase):
    """The relative change against the previous period or the same period a year before."""

    basis: ClassVar[Basis] = "aggregates"

    type: Literal["change"]
    compare_to: Literal["previous", "year_ago"] = "previous"
    op: Literal["lt", "gt"]
    pct: DecimalIn = Field(description="A ratio: -0.3 is a 30 % drop.")

    def _earlier(self, period: str, granularity: RuleGranularity) -> str:
        current = parse_period(period, Granularity(granularity))
        if self.compare_to == "previous":
            return str(current.previous())
        return str(current.year_ago())

    def earlier_periods(self, period: str, granularity: RuleGranularity) -> set[str]:
        """The period compared with."""
        return {self._earlier(period, granularity)}

    def check(self, series: Series, *, period: str, granularity: RuleGranularity) -> Verdict:
        """The change from the earlier period against `pct`."""
        value = series.get(period)
        if value is None:
            return Verdict(None, None)
        earlier = series.get(self._earlier(period, granularity))
        if earlier is None or earlier == 0:
            return Verdict(None, value)  # a change against nothing is undefined
        change = (value - earlier) / earlier
        return Verdict(compare(self.op, change, self.pct), value)

    def describe(self, *, kpi: str, granularity: RuleGranularity) -> str:
        """`sales_amount fell by more than 30% against the previous month`."""
        base = (
            f"the previous {granularity}"
            if self.compare_to == "previous"
            else f"the same {granularity} a year before"
        )
        pct = format_decimal(abs(self.pct) * 100)
        if self.op == "lt" and self.pct <= 0:
            return f"{kpi} fell by more than {pct}% against {base}"
        if self.op == "gt" and self.pct >= 0:
            return f"{kpi} rose by more than {pct}% against {base}"
        word = "less" if self.op == "lt" else "more"
        signed = format_decimal(self.pct * 100)
        return f"{kpi} changed by {word} than {signed}% against {base}"

    def check_rule(self, *, for_periods: int) -> None:
        """A change of 0 is refused."""
        if self.pct == 0:
            raise ValidationFailedError(
                "A change of 0 would fire on any change.",
                errors=[{"loc": ["body", "condition", "pct"], "msg": "must not be 0"}],
            )
