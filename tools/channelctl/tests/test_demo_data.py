"""The demo channel's figures: long enough, seasonal, and in trouble exactly where the alert
rules should fire."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from channelctl.demo import previous_quarter
from channelctl.demo_data import (
    PARTNERS,
    TROUBLED,
    Observation,
    history_months,
    month_label,
    observations,
    program_bodies,
    sum_sales,
)

TODAY = date(2026, 11, 27)


def series(
    kpi: str, today: date = TODAY, rows: list[Observation] | None = None
) -> dict[str, dict[str, Decimal]]:
    values: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in observations(today) if rows is None else rows:
        if row.kpi == kpi:
            values[row.code][row.month] = row.value
    return values


class TestHistory:
    @pytest.mark.parametrize(
        ("today", "first", "count"),
        [
            (date(2026, 11, 27), "2025-01", 23),  # from January of last year
            (date(2027, 3, 2), "2025-10", 18),  # at least 18 months
            (date(2027, 1, 1), "2025-08", 18),
        ],
    )
    def test_covers_18_months_and_a_whole_prior_year(
        self, today: date, first: str, count: int
    ) -> None:
        months = history_months(today)
        assert month_label(months[0]) == first
        assert month_label(months[-1]) == month_label(today)
        assert len(months) == count

    def test_every_partner_reports_every_month_with_stable_unique_ids(self) -> None:
        rows = observations(TODAY)
        assert len({r.id for r in rows}) == len(rows)
        assert [r.id for r in observations(TODAY)] == [r.id for r in rows]
        months = {(r.code, r.month) for r in rows if r.kpi == "sales_amount"}
        assert len(months) == len(PARTNERS) * 23

    def test_the_current_month_is_to_date_and_dated_today(self) -> None:
        rows = [r for r in observations(TODAY) if r.month == "2026-11"]
        assert {r.occurred_on for r in rows} == {TODAY}
        october = [r for r in observations(TODAY) if r.month == "2026-10"]
        assert {r.occurred_on for r in october} == {date(2026, 10, 31)}

    def test_sales_peak_on_double_eleven(self) -> None:
        sales = series("sales_amount")
        for code, months in sales.items():
            assert months["2025-11"] > months["2025-10"], code
            assert months["2025-02"] < months["2025-01"], code


class TestTrouble:
    def test_only_the_troubled_distributor_falls_25_percent_two_months_running(self) -> None:
        sales = series("sales_amount")
        falling = {
            code
            for code, months in sales.items()
            if all(
                months[m] < months[f"{int(m[:4]) - 1}{m[4:]}"] * Decimal("0.75")
                for m in ("2026-09", "2026-10")
            )
        }
        assert falling == {TROUBLED[0][1]}

    def test_only_the_troubled_shop_scores_below_70_two_months_running(self) -> None:
        satisfaction = series("customer_satisfaction")
        low = {
            code
            for code, months in satisfaction.items()
            if months["2026-10"] < 70 and months["2026-11"] < 70
        }
        assert low == {TROUBLED[1][1]}

    def test_healthy_partners_stay_above_the_growth_qualifier(self) -> None:
        satisfaction = series("customer_satisfaction")
        lowest = min(
            value
            for code, months in satisfaction.items()
            if code != TROUBLED[1][1]
            for value in months.values()
        )
        qualifier = program_bodies(date(2025, 1, 1))[1]["qualifiers"][0]
        assert lowest >= Decimal(qualifier["value"])


class TestPartners:
    def test_parents_come_before_children_and_codes_are_unique(self) -> None:
        seen: set[str] = set()
        for partner in PARTNERS:
            assert partner.parent is None or partner.parent in seen, partner.code
            seen.add(partner.code)
        assert len(seen) == len(PARTNERS)

    def test_a_channel_of_provinces_cities_and_shops(self) -> None:
        provincial = [p for p in PARTNERS if p.type == "distributor" and p.parent is None]
        cities = [p for p in PARTNERS if p.type == "distributor" and p.parent]
        shops = [p for p in PARTNERS if p.type == "retailer"]
        assert (len(provincial), len(cities), len(shops)) == (3, 6, 10)
        regions = {p.code: p.region for p in PARTNERS}
        assert all(p.region.startswith(regions[str(p.parent)]) for p in cities + shops)


@pytest.mark.parametrize(
    ("today", "quarter"),
    [(date(2026, 11, 27), "2026-Q3"), (date(2026, 1, 5), "2025-Q4"), (date(2026, 4, 1), "2026-Q1")],
)
def test_previous_quarter(today: date, quarter: str) -> None:
    assert previous_quarter(today) == quarter


def quarter_months(quarter: str) -> set[str]:
    year, number = int(quarter[:4]), int(quarter[-1])
    return {f"{year}-{month:02d}" for month in range(3 * number - 2, 3 * number + 1)}


def tier_index(amount: Decimal) -> int:
    tiers = program_bodies(date(2025, 1, 1))[0]["tiers"]
    return max(i for i, tier in enumerate(tiers) if amount >= Decimal(tier["from"]))


def what_the_demo_shows(today: date) -> list[str]:
    """Where the figures of `today` would break what the demo (and its suite test) shows."""
    rows: list[Observation] = observations(today)
    wrong: list[str] = []
    quarter = quarter_months(previous_quarter(today))
    tiers = {p.code: tier_index(sum_sales(rows, p.code, quarter)) for p in PARTNERS}
    if (tiers["DIST-GD"], tiers[TROUBLED[0][1]]) != (3, 0):
        wrong.append(f"tiers {tiers['DIST-GD']}, {tiers[TROUBLED[0][1]]}")
    months = [month_label(m) for m in history_months(today)]
    sales = series("sales_amount", rows=rows)
    satisfaction = series("customer_satisfaction", rows=rows)
    for code, values in sales.items():
        # The two complete months before today against the same months a year before.
        down = [
            values[m] < values[f"{int(m[:4]) - 1}{m[4:]}"] * Decimal("0.75") for m in months[-3:-1]
        ]
        if all(down) != (code == TROUBLED[0][1]) or any(down) != all(down):
            wrong.append(f"{code} sales down {down}")
    for code, values in satisfaction.items():
        low = [values[m] < 70 for m in months[-2:]]
        if all(low) != (code == TROUBLED[1][1]) or any(low) != all(low):
            wrong.append(f"{code} satisfaction low {low}")
    return wrong


def test_the_demo_shows_the_same_story_on_every_day_of_a_leap_year() -> None:
    days = [date(2028, 1, 1) + timedelta(days=n) for n in range(366)]
    broken = {day: wrong for day in days if (wrong := what_the_demo_shows(day))}
    assert broken == {}
