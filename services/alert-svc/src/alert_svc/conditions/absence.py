"""`absence`: no observation of the KPI for `days` full days."""

from __future__ import annotations

from typing import Literal

from channel_common import ExactInt, ValidationFailedError
from pydantic import Field

from .base import ElapsedCondition, RuleGranularity

__all__ = ["AbsenceCondition"]


class AbsenceCondition(ElapsedCondition):
    """No observation of the KPI for `days` full days."""

    type: Literal["absence"]
    days: ExactInt = Field(ge=1, le=3660)

    def overdue(self, silent_days: int) -> bool:
        """At least `days` silent days."""
        return silent_days >= self.days

    def describe(self, *, kpi: str, granularity: RuleGranularity) -> str:
        """`no sales_amount observation for 7 days`."""
        return f"no {kpi} observation for {self.days} days"

    def check_rule(self, *, for_periods: int) -> None:
        """An absence fires once its days have passed: `for_periods` must be 1."""
        if for_periods != 1:
            raise ValidationFailedError(
                "An absence rule fires once its days have passed: for_periods must be 1.",
                errors=[{"loc": ["body", "for_periods"], "msg": "must be 1 for an absence rule"}],
            )
