"""Alert conditions: a discriminated union on `type`, shared by the API and the evaluator."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from channel_common import ExactInt, InputModel
from pydantic import Field, PlainSerializer

__all__ = [
    "AbsenceCondition",
    "AnomalyCondition",
    "ChangeCondition",
    "Condition",
    "DecimalIn",
    "DecimalOut",
    "OutOfTerritoryCondition",
    "ThresholdCondition",
    "format_decimal",
]


def format_decimal(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros (`1234.5`, `100`)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


DecimalOut = Annotated[Decimal, PlainSerializer(format_decimal, return_type=str, when_used="json")]
# A JSON number or string in (never through float), at most 6 decimal places.
DecimalIn = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=6, allow_inf_nan=False),
    PlainSerializer(format_decimal, return_type=str, when_used="json"),
]


class ThresholdCondition(InputModel):
    """The period's value compared with a fixed value."""

    type: Literal["threshold"]
    op: Literal["lt", "lte", "gt", "gte"]
    value: DecimalIn


class ChangeCondition(InputModel):
    """The relative change against the previous period or the same period a year before."""

    type: Literal["change"]
    compare_to: Literal["previous", "year_ago"] = "previous"
    op: Literal["lt", "gt"]
    pct: DecimalIn = Field(description="A ratio: -0.3 is a 30 % drop.")


class AbsenceCondition(InputModel):
    """No observation of the KPI for `days` full days."""

    type: Literal["absence"]
    days: ExactInt = Field(ge=1, le=3660)


class AnomalyCondition(InputModel):
    """The value lies more than `zscore` standard deviations from the trailing periods."""

    type: Literal["anomaly"]
    lookback: ExactInt = Field(ge=2, le=366)
    zscore: DecimalIn = Field(gt=0)


class OutOfTerritoryCondition(InputModel):
    """A sale reported in a region outside the partner's territories."""

    type: Literal["out_of_territory"]


Condition = Annotated[
    ThresholdCondition
    | ChangeCondition
    | AbsenceCondition
    | AnomalyCondition
    | OutOfTerritoryCondition,
    Field(discriminator="type"),
]
