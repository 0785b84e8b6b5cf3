"""`out_of_territory`: a sale reported in a region outside the partner's territories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from .base import Basis, ConditionBase, RuleGranularity, Series, Verdict

__all__ = ["OutOfTerritoryCondition", "outside_territories"]


def outside_territories(region: str | None, territories: Sequence[str]) -> bool | None:
    """Whether a sale in `region` lies outside every territory (`CN-GD` contains `CN-GD-SZ`);
    None when the region is unknown or there is nothing to compare with."""
    if not region or not territories:
        return None
    wanted = region.upper()
    return not any(wanted == t.upper() or wanted.startswith(t.upper() + "-") for t in territories)


class OutOfTerritoryCondition(ConditionBase):
    """A sale reported in a region outside the partner's territories."""

    basis: ClassVar[Basis] = "observations"
    noun: ClassVar[str] = "sales outside"

    type: Literal["out_of_territory"]

    def check(self, series: Series, *, period: str, granularity: RuleGranularity) -> Verdict:
        """Any sale outside in the period (the series counts them)."""
        value = series.get(period)
        if value is None:
            return Verdict(None, None)
        return Verdict(value > 0, value)

    def describe(self, *, kpi: str, granularity: RuleGranularity) -> str:
        """`sales_amount reported in a region outside the partner's territories`."""
        return f"{kpi} reported in a region outside the partner's territories"
