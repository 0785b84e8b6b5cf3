"""Rebate bases: what a program measures its tiers against.

Each basis declares here, in one place, which months it loads, how it measures a period and
how it explains the measure. The rest of the service looks a basis up in `BASES` and never
compares basis names; a name added to `BasisType` but not to `_declared` fails mypy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, assert_never, get_args

from channel_common import Granularity, Period

from .wording import like, number, percent

if TYPE_CHECKING:
    from .calculation import Calculation

__all__ = [
    "BASES",
    "Basis",
    "BasisType",
    "Growth",
    "Measure",
    "Volume",
    "basis_of",
    "basis_type",
    "months_of",
]

BasisType = Literal["volume", "growth"]


@dataclass(frozen=True)
class Measure:
    """What the tiers are compared with, and the growth ratio it is (None if it is none)."""

    value: Decimal
    growth: Decimal | None = None


class Basis(ABC):
    """What a basis declares; the months a period loads follow from its `baseline`."""

    #: Only a measure above zero reaches a tier (even a tier from 0).
    positive_only: bool
    #: An incremental program pays each tier on its own slice of the measure.
    slices: bool
    #: The basis KPI must be a `sum` KPI (one of the settings' `volume_kpis`).
    needs_sum_kpi: bool

    @abstractmethod
    def baseline(self, period: Period) -> Period | None:
        """The period whose figures are the prior value (None: no prior value)."""

    @abstractmethod
    def measure(self, basis_value: Decimal, prior_value: Decimal | None) -> Measure | None:
        """The measure of a period (None: there is no baseline to measure against)."""

    @abstractmethod
    def volume_at(self, start: Decimal, prior_value: Decimal | None) -> Decimal:
        """The basis value at which a tier starting at `start` is reached."""

    @abstractmethod
    def describe(self, calc: Calculation, subject: str) -> str:
        """The measure in words, after `subject` (period, KPI and basis value)."""

    @abstractmethod
    def tier_start(self, start: Decimal, calc: Calculation) -> str:
        """A tier's start in words."""

    def no_baseline(self, subject: str, kpi: str) -> str:
        """Why nothing is earned when `measure` found no baseline."""
        return f"{subject}: there is no baseline to measure {kpi} against; nothing is earned."

    def months(self, period: Period) -> set[str]:
        """Every month the figures of `period` are read from."""
        baseline = self.baseline(period)
        return months_of(period) | (set() if baseline is None else months_of(baseline))


class Volume(Basis):
    """The KPI's sum over the period; tiers start at volumes."""

    positive_only = True
    slices = True
    needs_sum_kpi = True

    def baseline(self, period: Period) -> Period | None:
        return None

    def measure(self, basis_value: Decimal, prior_value: Decimal | None) -> Measure | None:
        return Measure(basis_value)

    def volume_at(self, start: Decimal, prior_value: Decimal | None) -> Decimal:
        return start

    def describe(self, calc: Calculation, subject: str) -> str:
        return subject

    def tier_start(self, start: Decimal, calc: Calculation) -> str:
        return like(start, calc.basis_value)


class Growth(Basis):
    """The period against the same period a year before; tiers start at growth ratios and
    the reached rate pays on the period's volume (a ratio has no slices: always retroactive)."""

    positive_only = False
    slices = False
    needs_sum_kpi = False

    def baseline(self, period: Period) -> Period | None:
        return period.year_ago()

    def measure(self, basis_value: Decimal, prior_value: Decimal | None) -> Measure | None:
        if prior_value is None or prior_value <= 0:
            return None
        growth = (basis_value - prior_value) / prior_value
        return Measure(growth, growth)

    def volume_at(self, start: Decimal, prior_value: Decimal | None) -> Decimal:
        assert prior_value is not None
        return prior_value * (1 + start)

    def describe(self, calc: Calculation, subject: str) -> str:
        if calc.growth is None:
            return subject
        prior = number(calc.prior_value) if calc.prior_value is not None else "?"
        return f"{subject} against {prior} a year before is growth {percent(calc.growth)}"

    def tier_start(self, start: Decimal, calc: Calculation) -> str:
        return percent(start)

    def no_baseline(self, subject: str, kpi: str) -> str:
        return (
            f"{subject}: there is no positive {kpi} for the same period a year before, so growth "
            "cannot be measured; not eligible, nothing is earned."
        )


def _declared(name: BasisType) -> Basis:
    """The basis of each name (mypy checks every name has one)."""
    match name:
        case "volume":
            return Volume()
        case "growth":
            return Growth()
        case _:
            assert_never(name)


BASES: dict[BasisType, Basis] = {name: _declared(name) for name in get_args(BasisType)}
_NAMES: dict[str, BasisType] = {name: name for name in BASES}


def basis_type(name: str) -> BasisType:
    """A stored basis name as a `BasisType` (ValueError when no basis has that name)."""
    try:
        return _NAMES[name]
    except KeyError:
        raise ValueError(f"no rebate basis is called {name!r}") from None


def basis_of(name: str) -> Basis:
    """The basis called `name` (ValueError when there is none)."""
    return BASES[basis_type(name)]


def months_of(period: Period) -> set[str]:
    """The months of a program period (`YYYY-MM`), as the figures are stored by."""
    return {str(month) for month in period.parts(Granularity.MONTH)}
