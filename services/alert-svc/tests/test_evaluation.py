"""The pure evaluator: every condition type on hand-made series."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from alert_svc.conditions import (
    AbsenceCondition,
    AnomalyCondition,
    ChangeCondition,
    OutOfTerritoryCondition,
    ThresholdCondition,
    outside_territories,
)
from alert_svc.evaluation import describe, evaluate_absence, evaluate_series, needed_periods
from channel_common import Granularity, parse_period
from channel_common import is_period as shared_is_period
from hypothesis import given
from hypothesis import strategies as st

D = Decimal


# The period helpers alert-svc had, as it now reads them from channel_common.
def shift_periods(period: str, granularity: str, count: int) -> str:
    return str(parse_period(period, Granularity(granularity)).shifted(count))


def year_ago(period: str, granularity: str) -> str:
    return str(parse_period(period, Granularity(granularity)).year_ago())


def is_period(period: str, granularity: str) -> bool:
    return shared_is_period(period, Granularity(granularity))


def threshold(op: str = "lt", value: str = "1000") -> ThresholdCondition:
    return ThresholdCondition(type="threshold", op=op, value=D(value))  # type: ignore[arg-type]


def run(condition: Any, series: dict[str, str], period: str, **kw: Any) -> Any:
    values = {p: D(v) for p, v in series.items()}
    options = {"granularity": "month", "for_periods": 1, "kpi": "sales_amount", **kw}
    return evaluate_series(condition, values, period=period, **options)


class TestPeriods:
    def test_shifts_months_across_years(self) -> None:
        assert shift_periods("2026-01", "month", -1) == "2025-12"
        assert shift_periods("2025-12", "month", 2) == "2026-02"

    def test_shifts_days(self) -> None:
        assert shift_periods("2026-03-01", "day", -1) == "2026-02-28"

    def test_recognises_valid_periods_only(self) -> None:
        assert is_period("2026-10", "month") and is_period("2028-02-29", "day")
        assert not is_period("2026-13", "month") and not is_period("2026-02-30", "day")
        assert not is_period("2026-10", "day") and not is_period("2026-W42", "month")

    def test_year_ago_of_a_leap_day_is_the_28th(self) -> None:
        assert year_ago("2028-02-29", "day") == "2027-02-28"
        assert year_ago("2026-10", "month") == "2025-10"


class TestThreshold:
    @pytest.mark.parametrize(
        ("op", "value", "holds"),
        [
            ("lt", "999", True),
            ("lt", "1000", False),
            ("lte", "1000", True),
            ("gt", "1000", False),
            ("gte", "1000", True),
            ("gt", "1000.01", True),
        ],
    )
    def test_compares_exactly(self, op: str, value: str, holds: bool) -> None:
        result = run(threshold(op), {"2026-10": value}, "2026-10")
        assert result.holds is holds and result.firing is holds

    def test_a_period_without_data_is_no_data_not_below(self) -> None:
        result = run(threshold("lt"), {"2026-09": "5"}, "2026-10")
        assert result.holds is None and result.firing is False
        assert "no data" in result.summary

    def test_for_periods_needs_consecutive_breaches(self) -> None:
        series = {"2026-08": "2000", "2026-09": "500", "2026-10": "400"}
        assert run(threshold(), series, "2026-10", for_periods=2).firing is True
        assert run(threshold(), series, "2026-10", for_periods=3).firing is False
        assert run(threshold(), series, "2026-09", for_periods=2).firing is False

    def test_a_gap_breaks_the_run(self) -> None:
        series = {"2026-08": "500", "2026-10": "400"}
        result = run(threshold(), series, "2026-10", for_periods=2)
        assert result.holds is True and result.firing is False

    def test_summary_says_the_condition_in_words(self) -> None:
        result = run(threshold(), {"2026-10": "800.50"}, "2026-10", for_periods=2)
        assert result.summary == (
            "sales_amount < 1000 for 2 consecutive months (value 800.5 in 2026-10)"
        )


class TestChange:
    drop = ChangeCondition(type="change", compare_to="previous", op="lt", pct=D("-0.3"))

    def test_a_drop_beyond_the_ratio_holds(self) -> None:
        assert run(self.drop, {"2026-09": "1000", "2026-10": "690"}, "2026-10").firing is True

    def test_a_drop_exactly_at_the_threshold_does_not_hold(self) -> None:
        result = run(self.drop, {"2026-09": "1000", "2026-10": "700"}, "2026-10")
        assert result.holds is False

    def test_without_the_earlier_value_there_is_no_data(self) -> None:
        assert run(self.drop, {"2026-10": "1"}, "2026-10").holds is None
        assert run(self.drop, {"2026-09": "0", "2026-10": "1"}, "2026-10").holds is None

    def test_compares_with_the_year_before(self) -> None:
        rise = ChangeCondition(type="change", compare_to="year_ago", op="gt", pct=D("0.5"))
        series = {"2025-10": "100", "2026-09": "1000", "2026-10": "151"}
        assert run(rise, series, "2026-10").holds is True
        assert describe(rise, kpi="k", granularity="month", for_periods=1) == (
            "k rose by more than 50% against the same month a year before"
        )

    def test_needs_the_earlier_periods_of_the_whole_window(self) -> None:
        periods = needed_periods(self.drop, period="2026-10", granularity="month", for_periods=2)
        assert periods == ["2026-08", "2026-09", "2026-10"]


class TestTheFirstPeriods:
    """Windows reaching before 1901 (the wire format's first year) hold no data, never fail."""

    def test_a_window_stops_at_the_first_period(self) -> None:
        spike = AnomalyCondition(type="anomaly", lookback=3, zscore=D("2"))
        periods = needed_periods(spike, period="1901-02", granularity="month", for_periods=3)
        assert periods == ["1901-01", "1901-02"]
        result = run(spike, {"1901-01": "5", "1901-02": "9"}, "1901-02", for_periods=3)
        assert (result.holds, result.firing) == (None, False)

    def test_a_run_longer_than_the_history_does_not_fire(self) -> None:
        low = threshold()
        assert run(low, {"1901-01": "5"}, "1901-01", for_periods=2).firing is False
        assert run(low, {"1901-01": "5", "1901-02": "5"}, "1901-02", for_periods=2).firing is True


class TestAnomaly:
    spike = AnomalyCondition(type="anomaly", lookback=4, zscore=D("2"))

    def test_a_value_far_from_the_trailing_mean_holds(self) -> None:
        series = {"2026-06": "100", "2026-07": "110", "2026-08": "90", "2026-09": "100"}
        assert run(self.spike, {**series, "2026-10": "10"}, "2026-10").holds is True
        assert run(self.spike, {**series, "2026-10": "105"}, "2026-10").holds is False

    def test_a_flat_history_gives_no_alert_and_no_division_by_zero(self) -> None:
        flat = {"2026-07": "100", "2026-08": "100", "2026-09": "100", "2026-10": "5"}
        result = run(self.spike, flat, "2026-10")
        assert result.holds is False and result.firing is False

    def test_too_little_history_is_no_data(self) -> None:
        assert run(self.spike, {"2026-09": "1", "2026-10": "9"}, "2026-10").holds is None


class TestAbsence:
    gone = AbsenceCondition(type="absence", days=3)

    def evaluate(self, last_seen: date | None, today: date) -> Any:
        return evaluate_absence(
            self.gone,
            last_seen=last_seen,
            since=date(2026, 10, 1),
            today=today,
            granularity="day",
            kpi="sales_amount",
        )

    def test_holds_after_that_many_full_days_without_observation(self) -> None:
        assert self.evaluate(date(2026, 10, 1), date(2026, 10, 4)).firing is False
        result = self.evaluate(date(2026, 10, 1), date(2026, 10, 5))
        assert result.firing is True and result.value == D(3)
        assert result.period == "2026-10-05"

    def test_counts_from_the_start_when_never_seen(self) -> None:
        assert self.evaluate(None, date(2026, 10, 3)).firing is False
        assert self.evaluate(None, date(2026, 10, 4)).firing is True

    def test_gaps_in_a_series_do_not_matter_to_other_conditions(self) -> None:
        assert run(self.gone, {"2026-10": "1"}, "2026-10").holds is None


class TestOutOfTerritory:
    condition = OutOfTerritoryCondition(type="out_of_territory")

    def test_a_sub_region_is_inside(self) -> None:
        assert outside_territories("CN-GD-SZ", ["CN-GD"]) is False
        assert outside_territories("CN-GDX", ["CN-GD"]) is True
        assert outside_territories("CN-BJ", ["CN-GD", "CN-SH"]) is True

    def test_unknown_region_or_no_territory_cannot_be_judged(self) -> None:
        assert outside_territories(None, ["CN-GD"]) is None
        assert outside_territories("CN-GD", []) is None

    def test_any_sale_outside_in_the_period_holds(self) -> None:
        assert run(self.condition, {"2026-10": "2"}, "2026-10").firing is True
        assert run(self.condition, {"2026-10": "0"}, "2026-10").holds is False


class TestProperties:
    @given(
        values=st.lists(
            st.one_of(st.none(), st.decimals(min_value=-(10**6), max_value=10**6, places=2)),
            min_size=1,
            max_size=12,
        ),
        limit=st.decimals(min_value=-(10**6), max_value=10**6, places=2),
        for_periods=st.integers(min_value=2, max_value=6),
    )
    def test_a_longer_for_never_fires_where_a_shorter_one_does_not(
        self, values: list[Decimal | None], limit: Decimal, for_periods: int
    ) -> None:
        series = {
            shift_periods("2026-01", "month", n): v for n, v in enumerate(values) if v is not None
        }
        condition = threshold("lt", str(limit))
        latest = shift_periods("2026-01", "month", len(values) - 1)
        longer = run_series(condition, series, latest, for_periods)
        shorter = run_series(condition, series, latest, for_periods - 1)
        assert not longer.firing or shorter.firing
        if values[-1] is None:
            assert longer.holds is None and not longer.firing


def run_series(condition: Any, series: dict[str, Decimal], period: str, for_periods: int) -> Any:
    return evaluate_series(
        condition, series, period=period, granularity="month", for_periods=for_periods, kpi="k"
    )
