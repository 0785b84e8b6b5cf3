"""Period strings on the wire: parsing, containment, previous, year-ago, shifts and parts."""

from __future__ import annotations

from datetime import date

import pytest
from channel_common import Granularity, is_period, parse_period, period_of, periods_between


class TestParsePeriod:
    @pytest.mark.parametrize(
        ("text", "granularity", "start", "end"),
        [
            ("2026-10-15", Granularity.DAY, date(2026, 10, 15), date(2026, 10, 15)),
            ("2026-W42", Granularity.WEEK, date(2026, 10, 12), date(2026, 10, 18)),
            ("2026-W01", Granularity.WEEK, date(2025, 12, 29), date(2026, 1, 4)),
            ("2026-W53", Granularity.WEEK, date(2026, 12, 28), date(2027, 1, 3)),
            ("2026-10", Granularity.MONTH, date(2026, 10, 1), date(2026, 10, 31)),
            ("2028-02", Granularity.MONTH, date(2028, 2, 1), date(2028, 2, 29)),
            ("2026-Q4", Granularity.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
            ("2026-Q1", Granularity.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
            ("2026", Granularity.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        ],
    )
    def test_reads_the_five_forms(
        self, text: str, granularity: Granularity, start: date, end: date
    ) -> None:
        period = parse_period(text)
        assert (period.granularity, period.start, period.end) == (granularity, start, end)
        assert str(period) == text

    @pytest.mark.parametrize(
        "text",
        [
            "2026-13",
            "2026-00",
            "2025-W53",
            "2026-W00",
            "2026-Q5",
            "2026-Q0",
            "26",
            "2026-1",
            "2026-02-30",
            "0000",
            "2026-10-15T00:00",
            " 2026",
            "2026-w42",
            "",
        ],
    )
    def test_refuses_anything_else(self, text: str) -> None:
        with pytest.raises(ValueError, match="period"):
            parse_period(text)


class TestCalendar:
    def test_containment(self) -> None:
        quarter = parse_period("2026-Q4")
        assert quarter.contains(parse_period("2026-10"))
        assert quarter.contains(date(2026, 12, 31))
        assert not quarter.contains(parse_period("2026-09"))
        assert not parse_period("2026-10").contains(parse_period("2026-W40"))  # Sep 28 to Oct 4
        assert parse_period("2026").contains(parse_period("2026-W42"))

    @pytest.mark.parametrize(
        ("text", "previous", "year_ago"),
        [
            ("2026-03-01", "2026-02-28", "2025-03-01"),
            ("2028-02-29", "2028-02-28", "2027-02-28"),
            ("2026-W01", "2025-W52", "2025-W01"),
            ("2026-W53", "2026-W52", "2025-W52"),
            ("2021-W01", "2020-W53", "2020-W01"),
            ("2026-01", "2025-12", "2025-01"),
            ("2026-Q1", "2025-Q4", "2025-Q1"),
            ("2026", "2025", "2025"),
        ],
    )
    def test_previous_and_year_ago(self, text: str, previous: str, year_ago: str) -> None:
        period = parse_period(text)
        assert str(period.previous()) == previous
        assert str(period.year_ago()) == year_ago
        assert period.previous().next() == period

    def test_period_of_a_day(self) -> None:
        day = date(2026, 10, 15)
        assert [str(period_of(day, g)) for g in Granularity] == [
            "2026-10-15",
            "2026-W42",
            "2026-10",
            "2026-Q4",
            "2026",
        ]
        assert str(period_of(date(2027, 1, 1), Granularity.WEEK)) == "2026-W53"

    def test_parts_and_ranges(self) -> None:
        assert [str(p) for p in parse_period("2026-Q4").parts(Granularity.MONTH)] == [
            "2026-10",
            "2026-11",
            "2026-12",
        ]
        days = parse_period("2026-W53").parts(Granularity.DAY)
        assert (len(days), str(days[0]), str(days[-1])) == (7, "2026-12-28", "2027-01-03")
        with pytest.raises(ValueError, match="whole"):
            parse_period("2026-W42").parts(Granularity.MONTH)
        months = list(periods_between(parse_period("2025-11"), parse_period("2026-02")))
        assert [str(m) for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]

    @pytest.mark.parametrize(
        ("text", "steps", "shifted"),
        [
            ("2026-12-31", 1, "2027-01-01"),
            ("2026-W53", 2, "2027-W02"),
            ("2026-11", 14, "2028-01"),
            ("2026-01", -13, "2024-12"),
            ("2026-Q3", -3, "2025-Q4"),
            ("2026", -26, "2000"),
        ],
    )
    def test_shifted(self, text: str, steps: int, shifted: str) -> None:
        period = parse_period(text)
        assert str(period.shifted(steps)) == shifted
        assert period.shifted(steps).shifted(-steps) == period

    def test_bounds(self) -> None:
        assert parse_period("2028-02").bounds == (date(2028, 2, 1), date(2028, 2, 29))
        assert parse_period("2026-10-15").bounds == (date(2026, 10, 15), date(2026, 10, 15))
        assert parse_period("2026-Q2").bounds == (date(2026, 4, 1), date(2026, 6, 30))


class TestOneGranularity:
    @pytest.mark.parametrize(
        ("text", "granularity"),
        [
            ("2026-10-15", Granularity.DAY),
            ("2026-W42", Granularity.WEEK),
            ("2026-10", Granularity.MONTH),
            ("2026-Q4", Granularity.QUARTER),
            ("2026", Granularity.YEAR),
        ],
    )
    def test_reads_a_period_of_the_asked_granularity(
        self, text: str, granularity: Granularity
    ) -> None:
        assert str(parse_period(text, granularity)) == text
        assert is_period(text, granularity)
        others = [g for g in Granularity if g != granularity]
        assert not any(is_period(text, other) for other in others)
        with pytest.raises(ValueError, match=f"not a {others[0]} period"):
            parse_period(text, others[0])

    @pytest.mark.parametrize(
        "text",
        [
            "2026-02-30",
            "2026-13",
            "\u0661\u0669\u0669\u0669",  # Arabic-Indic digits
            "\uff12\uff10\uff12\uff16-10",  # full-width digits
            "2026-W42-1",
            "0001-01",
            "9999",
        ],
    )
    def test_is_period_refuses_what_parse_refuses(self, text: str) -> None:
        assert not is_period(text)
        assert not is_period(text, Granularity.MONTH)
        with pytest.raises(ValueError, match="period"):
            parse_period(text)
