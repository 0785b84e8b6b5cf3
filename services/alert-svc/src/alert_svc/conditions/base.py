"""What every alert condition declares: what it is judged on, how it checks a period, how it
says itself in words, and which rules it refuses. Pure: no I/O, Decimal only."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from channel_common import InputModel, decimal_serializer
from pydantic import Field

__all__ = [
    "Basis",
    "ConditionBase",
    "DecimalIn",
    "ElapsedCondition",
    "RuleGranularity",
    "Series",
    "Verdict",
    "compare",
]

RuleGranularity = Literal["day", "month"]
"""The periods a rule watches: days (`2026-10-15`) or months (`2026-10`)."""

DecimalIn = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=6, allow_inf_nan=False),
    decimal_serializer(),
]
"""A condition figure: a JSON number or string (never through float), at most 6 decimals."""

Basis = Literal["aggregates", "observations", "elapsed"]
"""What a condition is judged on: the KPI's aggregates per period, the partner's observations
per period (evaluated as they arrive), or the days elapsed since the last observation (also
swept periodically)."""

Series = Mapping[str, Decimal]
"""A value per period; a period missing from it has no data."""


@dataclass(frozen=True)
class Verdict:
    """Whether the condition holds for one period (None: no data to say), and the value."""

    holds: bool | None
    value: Decimal | None


def compare(op: Literal["lt", "lte", "gt", "gte"], left: Decimal, right: Decimal) -> bool:
    """`left op right`."""
    if op == "lt":
        return left < right
    if op == "lte":
        return left <= right
    if op == "gt":
        return left > right
    return left >= right


class ConditionBase(InputModel, ABC):
    """One condition type: its fields are its API model, its methods its behaviour."""

    basis: ClassVar[Basis]
    single_period: ClassVar[bool] = False
    """Fires as soon as it holds: its rules have `for_periods` 1, its words no run length."""
    noun: ClassVar[str] = "value"
    """What the summary calls the period's value."""

    def earlier_periods(self, period: str, granularity: RuleGranularity) -> set[str]:
        """The periods besides `period` whose values `check` reads."""
        return set()

    @abstractmethod
    def check(self, series: Series, *, period: str, granularity: RuleGranularity) -> Verdict:
        """Whether the condition holds for `period` alone."""

    @abstractmethod
    def describe(self, *, kpi: str, granularity: RuleGranularity) -> str:
        """The condition in words, for one period."""

    def check_rule(self, *, for_periods: int) -> None:
        """Raise `ValidationFailedError` naming the field when a rule's parts do not fit."""


class ElapsedCondition(ConditionBase):
    """Judged on the full days passed without an observation, never on a period's value."""

    basis: ClassVar[Basis] = "elapsed"
    single_period: ClassVar[bool] = True

    def check(self, series: Series, *, period: str, granularity: RuleGranularity) -> Verdict:
        """Never judged on a series: no data to say."""
        return Verdict(None, series.get(period))

    @abstractmethod
    def overdue(self, silent_days: int) -> bool:
        """Whether `silent_days` full days without an observation breach the condition."""
