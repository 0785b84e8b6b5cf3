"""The basis registry: every basis type has one basis, and each declares its months, measure
and wording."""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

import pytest
from channel_common import parse_period
from rebate_svc.bases import BASES, BasisType, Growth, Volume, basis_of, basis_type
from rebate_svc.calculation import Terms, Tier, calculate

D = Decimal
Q3 = parse_period("2026-Q3")


def test_every_basis_type_has_a_basis() -> None:
    assert set(BASES) == set(get_args(BasisType))
    assert isinstance(basis_of("volume"), Volume)
    assert isinstance(basis_of("growth"), Growth)


def test_an_unknown_stored_name_is_refused() -> None:
    with pytest.raises(ValueError, match="margin"):
        basis_type("margin")


def test_volume_reads_the_periods_months_only() -> None:
    assert basis_of("volume").months(Q3) == {"2026-07", "2026-08", "2026-09"}


def test_growth_reads_the_same_months_a_year_before_too() -> None:
    assert basis_of("growth").months(Q3) == {
        "2026-07", "2026-08", "2026-09", "2025-07", "2025-08", "2025-09",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "basis", "prior", "measure"),
    [
        ("volume", D(125000), None, D(125000)),
        ("growth", D(125000), D(100000), D("0.25")),
        ("growth", D(125000), D(0), None),
    ],
)
def test_each_basis_measures_a_period(
    name: BasisType, basis: Decimal, prior: Decimal | None, measure: Decimal | None
) -> None:
    measured = BASES[name].measure(basis, prior)
    assert (None if measured is None else measured.value) == measure


@pytest.mark.parametrize(
    ("name", "tier_from", "words"), [("volume", D(1000), "1,000.00"), ("growth", D("0.05"), "5%")]
)
def test_each_basis_words_its_tier_start(name: BasisType, tier_from: Decimal, words: str) -> None:
    terms = Terms([Tier(tier_from, D("0.01"))], "retroactive", name, "EUR")
    calc = calculate(terms, basis_value=D("2000.00"), prior_value=D(1000))
    assert BASES[name].tier_start(calc.lines[-1].start, calc) == words
