"""Aggregate state that answers every aggregation kind exactly: sum, count, min, max and the
last value (latest `occurred_on`, ties broken by the greater observation id)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import reduce

from .scaled import from_micro, round_value

__all__ = ["AggregateState", "Aggregation", "aggregate_value", "group_value", "merge_all"]


class Aggregation(StrEnum):
    """How observations of a KPI combine into one value per period."""

    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    LAST = "last"


@dataclass(frozen=True)
class AggregateState:
    """Mergeable statistics of a set of observations (values as scaled integers)."""

    total: int
    count: int
    minimum: int
    maximum: int
    last_value: int
    last_on: date
    last_id: uuid.UUID

    @classmethod
    def of(cls, *, value: int, occurred_on: date, observation_id: uuid.UUID) -> AggregateState:
        """The state of a single observation."""
        return cls(value, 1, value, value, value, occurred_on, observation_id)

    def merge(self, other: AggregateState) -> AggregateState:
        """The state of both sets of observations together."""
        later = other if (other.last_on, other.last_id) > (self.last_on, self.last_id) else self
        return AggregateState(
            total=self.total + other.total,
            count=self.count + other.count,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            last_value=later.last_value,
            last_on=later.last_on,
            last_id=later.last_id,
        )

    def value(self, aggregation: Aggregation) -> Decimal:
        """The value of the observations under `aggregation` (avg rounded to 6 places)."""
        return aggregate_value(
            aggregation,
            total=self.total,
            count=self.count,
            minimum=self.minimum,
            maximum=self.maximum,
            last_value=self.last_value,
        )


def aggregate_value(
    aggregation: Aggregation, *, total: int, count: int, minimum: int, maximum: int, last_value: int
) -> Decimal:
    """The value of stored statistics under `aggregation` (avg rounded to 6 places)."""
    match aggregation:
        case Aggregation.SUM:
            return from_micro(total)
        case Aggregation.AVG:
            return round_value(from_micro(total) / count)
        case Aggregation.MIN:
            return from_micro(minimum)
        case Aggregation.MAX:
            return from_micro(maximum)
        case _:
            return from_micro(last_value)


def merge_all(states: Iterable[AggregateState]) -> AggregateState:
    """The merge of one or more states."""
    return reduce(AggregateState.merge, states)


def group_value(
    per_partner: Iterable[Iterable[AggregateState]], aggregation: Aggregation
) -> tuple[Decimal, int]:
    """The value and observation count of a group of partners over a period.

    Each inner iterable holds one partner's states (e.g. its days of a week). `avg` pools the
    observations of all partners; `last` is the sum of each partner's last value, because a
    "last" KPI is a stock figure (stores covered) and a group holds the stock of its members.
    """
    merged = [merge_all(states) for states in per_partner]
    if not merged:
        raise ValueError("no partner in the group")
    count = sum(state.count for state in merged)
    if aggregation == Aggregation.LAST:
        return from_micro(sum(state.last_value for state in merged)), count
    return merge_all(merged).value(aggregation), count
