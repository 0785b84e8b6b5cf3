"""Tier arithmetic, with hand-computed amounts and a property test against a reference."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rebate_svc.calculation import Qualifier, Terms, Tier, calculate

D = Decimal
EXAMPLE_TIERS = [Tier(D(0), D("0.01")), Tier(D(50000), D("0.03")), Tier(D(120000), D("0.04"))]


def terms(method: str = "retroactive", **overrides: object) -> Terms:
    values: dict[str, object] = {
        "tiers": EXAMPLE_TIERS,
        "method": method,
        "basis_type": "volume",
        "currency": "EUR",
        **overrides,
    }
    return Terms(**values)  # type: ignore[arg-type]


class TestWorkedExample:
    def test_retroactive_pays_the_reached_rate_on_the_whole_basis(self) -> None:
        calc = calculate(terms("retroactive"), basis_value=D(150000))
        assert calc.amount == D("6000.00")
        assert calc.tier_index == 2
        assert [(x.start, x.end, x.rate, x.base, x.amount) for x in calc.lines] == [
            (D(120000), None, D("0.04"), D(150000), D("6000.00"))
        ]

    def test_incremental_pays_each_tier_on_its_slice(self) -> None:
        calc = calculate(terms("incremental"), basis_value=D(150000))
        assert calc.amount == D("3800.00")
        assert [(x.start, x.end, x.base, x.amount) for x in calc.lines] == [
            (D(0), D(50000), D(50000), D("500.00")),
            (D(50000), D(120000), D(70000), D("2100.00")),
            (D(120000), None, D(30000), D("1200.00")),
        ]

    def test_next_tier_is_reported_with_distance_and_amount(self) -> None:
        calc = calculate(terms("retroactive"), basis_value=D(100000))
        assert calc.tier_index == 1
        assert calc.amount == D("3000.00")
        assert calc.next_tier is not None
        assert calc.next_tier.start == D(120000)
        assert calc.next_tier.distance == D(20000)
        assert calc.next_tier.amount_at_next == D("4800.00")

    def test_top_tier_has_no_next_tier(self) -> None:
        assert calculate(terms(), basis_value=D(150000)).next_tier is None


class TestTiers:
    def test_below_the_first_tier_earns_nothing_with_a_reason(self) -> None:
        calc = calculate(terms(tiers=[Tier(D(10000), D("0.02"))]), basis_value=D("9999.99"))
        assert calc.amount == D("0.00")
        assert calc.tier_index is None
        assert calc.reason == "below_first_tier"
        assert calc.lines == []
        assert calc.next_tier is not None and calc.next_tier.distance == D("0.01")

    def test_incremental_starts_at_the_first_tier_not_at_zero(self) -> None:
        two = terms("incremental", tiers=[Tier(D(10000), D("0.02")), Tier(D(20000), D("0.05"))])
        calc = calculate(two, basis_value=D(25000))
        # 10,000 x 2% + 5,000 x 5%
        assert calc.amount == D("450.00")

    def test_zero_volume_reaches_no_tier_even_one_from_zero(self) -> None:
        calc = calculate(terms(), basis_value=D(0))
        assert (calc.tier_index, calc.reason, calc.amount) == (None, "below_first_tier", D("0.00"))

    def test_exactly_on_a_boundary_reaches_that_tier(self) -> None:
        assert calculate(terms(), basis_value=D(50000)).tier_index == 1
        assert calculate(terms("incremental"), basis_value=D(50000)).amount == D("500.00")


class TestRounding:
    def test_each_line_rounds_half_up_at_half_a_cent(self) -> None:
        calc = calculate(terms(tiers=[Tier(D(0), D("0.01"))]), basis_value=D("0.5"))
        assert calc.amount == D("0.01")  # 0.005 → 0.01

    def test_amount_is_the_sum_of_rounded_lines(self) -> None:
        # 100.5 x 1% = 1.005 → 1.01; 0.5 x 1% = 0.005 → 0.01: total 1.02 (not round(1.01))
        tiers = [Tier(D(0), D("0.01")), Tier(D("100.5"), D("0.01"))]
        calc = calculate(terms("incremental", tiers=tiers), basis_value=D(101))
        assert [x.amount for x in calc.lines] == [D("1.01"), D("0.01")]
        assert calc.amount == D("1.02")

    @pytest.mark.parametrize(
        ("currency", "basis", "expected"),
        [
            ("JPY", "125", D("13")),
            ("KRW", "124.9", D("12")),
            ("KWD", "123.455", D("12.346")),
            ("EUR", "123.455", D("12.35")),
            ("BHD", "123.4549", D("12.345")),
        ],
    )
    def test_rounds_to_the_currency_minor_unit(
        self, currency: str, basis: str, expected: Decimal
    ) -> None:
        calc = calculate(
            terms(tiers=[Tier(D(0), D("0.1"))], currency=currency), basis_value=D(basis)
        )
        assert calc.amount == expected


class TestCapAndQualifiers:
    def test_cap_bounds_the_statement(self) -> None:
        calc = calculate(terms(cap=D("5000.00")), basis_value=D(150000))
        assert calc.gross_amount == D("6000.00")
        assert calc.amount == D("5000.00")
        assert calc.cap_applied

    def test_cap_above_the_amount_changes_nothing(self) -> None:
        calc = calculate(terms(cap=D("7000.00")), basis_value=D(150000))
        assert (calc.amount, calc.cap_applied) == (D("6000.00"), False)

    def test_failed_qualifier_gates_the_whole_statement_and_is_named(self) -> None:
        gated = terms(
            qualifiers=[
                Qualifier("conversion_rate", "gte", D("0.1")),
                Qualifier("customer_satisfaction", "gt", D(80)),
            ]
        )
        calc = calculate(
            gated,
            basis_value=D(150000),
            kpi_values={"conversion_rate": D("0.12"), "customer_satisfaction": D(80)},
        )
        assert calc.amount == D("0.00")
        assert calc.gross_amount == D("6000.00")
        assert calc.reason == "qualifier_failed"
        assert [r.kpi for r in calc.failed_qualifiers] == ["customer_satisfaction"]
        assert [r.passed for r in calc.qualifier_results] == [True, False]

    def test_missing_qualifier_value_fails_it(self) -> None:
        gated = terms(qualifiers=[Qualifier("conversion_rate", "lt", D(1))])
        calc = calculate(gated, basis_value=D(150000), kpi_values={})
        assert calc.reason == "qualifier_failed"
        assert calc.failed_qualifiers[0].actual is None

    @pytest.mark.parametrize(
        ("op", "actual", "passed"),
        [("gte", "5", True), ("gt", "5", False), ("lte", "5", True), ("lt", "5", False)],
    )
    def test_operators_compare_at_the_bound(self, op: str, actual: str, passed: bool) -> None:
        gated = terms(qualifiers=[Qualifier("k", op, D(5))])
        calc = calculate(gated, basis_value=D(150000), kpi_values={"k": D(actual)})
        assert calc.qualifier_results[0].passed is passed


class TestGrowth:
    GROWTH_TIERS = [Tier(D("0.05"), D("0.01")), Tier(D("0.20"), D("0.03"))]

    def test_reached_rate_applies_to_this_periods_volume(self) -> None:
        growth = terms(tiers=self.GROWTH_TIERS, basis_type="growth")
        calc = calculate(growth, basis_value=D(125000), prior_value=D(100000))
        assert calc.growth == D("0.25")
        assert calc.tier_index == 1
        assert calc.amount == D("3750.00")  # 125,000 x 3%

    def test_growth_below_the_first_tier(self) -> None:
        growth = terms(tiers=self.GROWTH_TIERS, basis_type="growth")
        calc = calculate(growth, basis_value=D(102000), prior_value=D(100000))
        assert (calc.reason, calc.amount) == ("below_first_tier", D("0.00"))
        assert calc.next_tier is not None
        assert calc.next_tier.distance == D("0.03")
        assert calc.next_tier.amount_at_next == D("1050.00")  # 105,000 x 1%

    @pytest.mark.parametrize("prior", [None, D(0), D(-5)])
    def test_no_positive_prior_value_is_not_eligible(self, prior: Decimal | None) -> None:
        growth = terms(tiers=self.GROWTH_TIERS, basis_type="growth")
        calc = calculate(growth, basis_value=D(125000), prior_value=prior)
        assert (calc.reason, calc.amount, calc.tier_index) == ("no_baseline", D("0.00"), None)


def reference(tiers: list[tuple[int, int]], basis: int, method: str) -> Decimal:
    """Amount in cents, from whole-number tiers (from, rate in basis points)."""
    total = Decimal(0)
    for i, (start, bps) in enumerate(tiers):
        end = tiers[i + 1][0] if i + 1 < len(tiers) else None
        if basis < start:
            break
        if method == "retroactive":
            if end is None or basis < end:
                total = Decimal(basis * bps) / 10000
        else:
            top = basis if end is None else min(basis, end)
            total += (Decimal((top - start) * bps) / 10000).quantize(
                D("0.01"), rounding=ROUND_HALF_UP
            )
    return total.quantize(D("0.01"), rounding=ROUND_HALF_UP)


tier_lists = st.lists(
    st.tuples(st.integers(0, 200_000), st.integers(0, 10_000)), min_size=1, max_size=5
).map(lambda ts: sorted({start: bps for start, bps in ts}.items()))


class TestProperties:
    @settings(max_examples=150, deadline=None)
    @given(tiers=tier_lists, basis=st.integers(0, 400_000), more=st.integers(0, 50_000))
    def test_agrees_with_reference_and_is_monotone(
        self, tiers: list[tuple[int, int]], basis: int, more: int
    ) -> None:
        rising = sorted(tiers, key=lambda t: t[1])  # rates rising with the tiers
        tiers = [(start, rate) for (start, _), (_, rate) in zip(tiers, rising, strict=True)]
        model = [Tier(D(start), D(bps) / 10000) for start, bps in tiers]
        amounts = {}
        for method in ("retroactive", "incremental"):
            calc = calculate(terms(method, tiers=model), basis_value=D(basis))
            bigger = calculate(terms(method, tiers=model), basis_value=D(basis + more))
            assert calc.amount == reference(tiers, basis, method)
            assert calc.amount >= 0
            assert bigger.amount >= calc.amount
            amounts[method] = calc.amount
        assert amounts["incremental"] <= amounts["retroactive"]

    @settings(max_examples=50, deadline=None)
    @given(tiers=tier_lists)
    def test_exact_at_every_tier_boundary(self, tiers: list[tuple[int, int]]) -> None:
        model = [Tier(D(start), D(bps) / 10000) for start, bps in tiers]
        for index, (start, _) in enumerate(tiers):
            if start == 0:
                continue  # a zero volume reaches no tier
            for method in ("retroactive", "incremental"):
                calc = calculate(terms(method, tiers=model), basis_value=D(start))
                assert calc.tier_index == index
                assert calc.amount == reference(tiers, start, method)
