"""Alert conditions, one module per type: its API model and its behaviour in one class.

The registry is this module: `ConditionType`, the `Condition` union and `condition_class`.
mypy fails when a type is missing from one of them (`type_of`, `assert_never`); the tests
check that the union and the Literal name the same types.
"""

from __future__ import annotations

from typing import Annotated, Literal, assert_never, get_args

from pydantic import Field

from .absence import AbsenceCondition
from .anomaly import AnomalyCondition
from .base import (
    Basis,
    ConditionBase,
    DecimalIn,
    ElapsedCondition,
    RuleGranularity,
    Series,
    Verdict,
)
from .change import ChangeCondition
from .out_of_territory import OutOfTerritoryCondition, outside_territories
from .threshold import ThresholdCondition

__all__ = [
    "AbsenceCondition",
    "AnomalyCondition",
    "Basis",
    "ChangeCondition",
    "Condition",
    "ConditionBase",
    "ConditionType",
    "DecimalIn",
    "ElapsedCondition",
    "OutOfTerritoryCondition",
    "RuleGranularity",
    "Series",
    "ThresholdCondition",
    "Verdict",
    "condition_class",
    "outside_territories",
    "type_of",
    "types_on",
]

ConditionType = Literal["threshold", "change", "absence", "anomaly", "out_of_territory"]

Condition = Annotated[
    ThresholdCondition
    | ChangeCondition
    | AbsenceCondition
    | AnomalyCondition
    | OutOfTerritoryCondition,
    Field(discriminator="type"),
]


def condition_class(condition_type: ConditionType) -> type[ConditionBase]:
    """The class of a condition type."""
    match condition_type:
        case "threshold":
            return ThresholdCondition
        case "change":
            return ChangeCondition
        case "absence":
            return AbsenceCondition
        case "anomaly":
            return AnomalyCondition
        case "out_of_territory":
            return OutOfTerritoryCondition
        case _:
            assert_never(condition_type)


def type_of(condition: Condition) -> ConditionType:
    """The type of a condition (mypy checks every member of the union is a `ConditionType`)."""
    return condition.type


def types_on(*bases: Basis) -> tuple[ConditionType, ...]:
    """The condition types judged on any of `bases`, in declaration order."""
    return tuple(t for t in get_args(ConditionType) if condition_class(t).basis in bases)
