"""Reading KPIs: series at every granularity, summaries with MoM/YoY, rankings, raw rows.

The data set (sales_amount is a sum; conversion_rate an average; store_coverage a last value):

    partner  tier    region     2025-10  2026-09  2026-10
    A        gold    CN-GD-SZ   80       100      60 + 50
    B        gold    CN-BJ      0        200      —
    C        silver  CN-GD      —        —        30
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import Kpi, obs, problem


@dataclass
class Partners:
    a: str
    b: str
    c: str


@pytest.fixture
async def partners(kpi: Kpi) -> Partners:
    a = await kpi.partner(code="A", tier="gold", region="CN-GD-SZ")
    b = await kpi.partner(code="B", tier="gold", region="CN-BJ")
    c = await kpi.partner(code="C", tier="silver", region="CN-GD")
    answer = await kpi.ingest(
        [
            obs(a, value="80", occurred_on="2025-10-10"),
            obs(a, value="100", occurred_on="2026-09-15"),
            obs(a, value="60", occurred_on="2026-10-01"),
            obs(a, value="50", occurred_on="2026-10-20"),
            obs(b, value="0", occurred_on="2025-10-10"),
            obs(b, value="200", occurred_on="2026-09-15"),
            obs(c, value="30", occurred_on="2026-10-03"),
            obs(a, "conversion_rate", value="0.2", occurred_on="2026-10-01"),
            obs(a, "conversion_rate", value="0.3", occurred_on="2026-10-02"),
            obs(a, "conversion_rate", value="0.4", occurred_on="2026-10-20"),
            obs(a, "store_coverage", value="10", occurred_on="2026-10-05"),
            obs(a, "store_coverage", value="12", occurred_on="2026-10-20"),
            obs(c, "store_coverage", value="7", occurred_on="2026-10-03"),
        ]
    )
    assert answer["accepted"] == 13
    return Partners(a, b, c)


def points(series: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(p["period"], p["value"], p["count"]) for p in series]


async def series(kpi: Kpi, key: str = "sales_amount", **params: Any) -> list[tuple[str, str, int]]:
    if "first" in params:
        params["from"] = params.pop("first")
    return points(await kpi.ok(f"/kpis/{key}/series", **params))


class TestSeries:
    async def test_one_partner_at_every_granularity(self, kpi: Kpi, partners: Partners) -> None:
        a = partners.a
        span = {"first": "2025-10-01", "to": "2026-10-31"}
        assert await series(kpi, partner_id=a, granularity="day", **span) == [
            ("2025-10-10", "80", 1),
            ("2026-09-15", "100", 1),
            ("2026-10-01", "60", 1),
            ("2026-10-20", "50", 1),
        ]
        assert await series(kpi, partner_id=a, granularity="week", **span) == [
            ("2025-W41", "80", 1),
            ("2026-W38", "100", 1),
            ("2026-W40", "60", 1),
            ("2026-W43", "50", 1),
        ]
        assert await series(kpi, partner_id=a, granularity="month", **span) == [
            ("2025-10", "80", 1),
            ("2026-09", "100", 1),
            ("2026-10", "110", 2),
        ]
        assert await series(kpi, partner_id=a, granularity="quarter", **span) == [
            ("2025-Q4", "80", 1),
            ("2026-Q3", "100", 1),
            ("2026-Q4", "110", 2),
        ]
        assert await series(kpi, partner_id=a, granularity="year", first="2025", to="2026") == [
            ("2025", "80", 1),
            ("2026", "210", 3),
        ]

    async def test_averages_per_week_and_month(self, kpi: Kpi, partners: Partners) -> None:
        span = {"first": "2026-10", "to": "2026-10"}
        assert await series(kpi, "conversion_rate", granularity="week", **span) == [
            ("2026-W40", "0.25", 2),
            ("2026-W43", "0.4", 1),
        ]
        assert await series(kpi, "conversion_rate", granularity="month", **span) == [
            ("2026-10", "0.3", 3)
        ]

    async def test_groups_by_tier_and_region_from_the_replica(
        self, kpi: Kpi, partners: Partners
    ) -> None:
        span = {"first": "2026-09", "to": "2026-10", "granularity": "month"}
        assert await series(kpi, tier="gold", **span) == [
            ("2026-09", "300", 2),
            ("2026-10", "110", 2),
        ]
        assert await series(kpi, region="CN-GD", **span) == [
            ("2026-09", "100", 1),
            ("2026-10", "140", 3),
        ]
        assert await series(kpi, region="CN-G", **span) == []

    async def test_last_value_of_a_group_sums_its_members_latest(
        self, kpi: Kpi, partners: Partners
    ) -> None:
        span = {"first": "2026-10", "to": "2026-10", "granularity": "month"}
        assert await series(kpi, "store_coverage", partner_id=partners.a, **span) == [
            ("2026-10", "12", 2)
        ]
        assert await series(kpi, "store_coverage", region="CN-GD", **span) == [("2026-10", "19", 3)]

    async def test_rejects_bad_ranges_and_unknown_kpis(self, kpi: Kpi, partners: Partners) -> None:
        url = "/kpis/sales_amount/series"
        problem(await kpi.get(url, **{"from": "2026-11", "to": "2026-10"}), 422)
        problem(await kpi.get(url, **{"from": "2026-13"}), 422)
        problem(await kpi.get(url, granularity="decade"), 422)
        problem(await kpi.get(url, granularity="day", **{"from": "1990-01-01"}), 422)
        problem(await kpi.get("/kpis/footfall/series"), 404)
        problem(await kpi.get(url, partner_id=str(uuid.uuid4())), 404)


class TestSummary:
    async def test_by_partner_against_previous_month_and_a_year_ago(
        self, kpi: Kpi, partners: Partners
    ) -> None:
        summary = await kpi.ok("/kpis/sales_amount/summary", period="2026-10")
        assert (summary["period"], summary["previous_period"], summary["year_ago_period"]) == (
            "2026-10",
            "2026-09",
            "2025-10",
        )
        rows = {row.pop("group"): row for row in summary["items"]}
        assert rows == {
            partners.a: {
                "value": "110",
                "count": 2,
                "previous_value": "100",
                "change_pct": "0.1",
                "year_ago_value": "80",
                "yoy_pct": "0.375",
            },
            # No data this month; a zero a year ago gives no ratio.
            partners.b: {
                "value": None,
                "count": 0,
                "previous_value": "200",
                "change_pct": None,
                "year_ago_value": "0",
                "yoy_pct": None,
            },
            partners.c: {
                "value": "30",
                "count": 1,
                "previous_value": None,
                "change_pct": None,
                "year_ago_value": None,
                "yoy_pct": None,
            },
        }

    async def test_by_tier_and_region(self, kpi: Kpi, partners: Partners) -> None:
        tiers = await kpi.ok("/kpis/sales_amount/summary", period="2026-10", group_by="tier")
        gold, silver = tiers["items"]
        assert (gold["group"], gold["value"], gold["previous_value"]) == ("gold", "110", "300")
        assert (gold["change_pct"], gold["year_ago_value"], gold["yoy_pct"]) == (
            "-0.633333",
            "80",
            "0.375",
        )
        assert (silver["group"], silver["value"], silver["change_pct"]) == ("silver", "30", None)
        regions = await kpi.ok("/kpis/sales_amount/summary", period="2026-10", group_by="region")
        assert [r["group"] for r in regions["items"]] == ["CN-BJ", "CN-GD", "CN-GD-SZ"]

    async def test_quarter_against_the_previous_quarter(self, kpi: Kpi, partners: Partners) -> None:
        summary = await kpi.ok("/kpis/sales_amount/summary", period="2026-Q4", group_by="tier")
        gold = summary["items"][0]
        assert summary["previous_period"] == "2026-Q3"
        assert (gold["value"], gold["previous_value"], gold["year_ago_value"]) == (
            "110",
            "300",
            "80",
        )

    async def test_pages_through_groups(self, kpi: Kpi, partners: Partners) -> None:
        first = await kpi.ok("/kpis/sales_amount/summary", period="2026-10", limit=2)
        rest = await kpi.ok(
            "/kpis/sales_amount/summary", period="2026-10", limit=2, cursor=first["next_cursor"]
        )
        groups = [r["group"] for r in first["items"] + rest["items"]]
        assert groups == sorted([partners.a, partners.b, partners.c])
        assert rest["next_cursor"] is None


class TestRanking:
    async def test_best_first_with_shared_ranks(self, kpi: Kpi, partners: Partners) -> None:
        d = await kpi.partner(code="D", tier="gold", region="CN-SH")
        await kpi.ingest([obs(d, value="110", occurred_on="2026-10-09")])
        ranking = await kpi.ok("/kpis/sales_amount/ranking", period="2026-10")
        assert [(r["rank"], r["partner_code"], r["value"]) for r in ranking["items"]] == [
            (1, "A", "110"),
            (1, "D", "110"),
            (3, "C", "30"),
        ]
        top = await kpi.ok("/kpis/sales_amount/ranking", period="2026-10", limit=1, tier="gold")
        assert [r["partner_code"] for r in top["items"]] == ["A"]

    async def test_lower_is_better_ranks_the_smallest_first(
        self, kpi: Kpi, partners: Partners
    ) -> None:
        created = await kpi.request(
            "POST",
            "/kpi-definitions",
            json={
                "key": "days_to_pay",
                "name": "Days to pay",
                "unit": "days",
                "aggregation": "avg",
                "higher_is_better": False,
            },
        )
        assert created.status_code == 201
        await kpi.ingest(
            [
                obs(partners.a, "days_to_pay", value="40"),
                obs(partners.b, "days_to_pay", value="25"),
            ]
        )
        ranking = await kpi.ok("/kpis/days_to_pay/ranking", period="2026-W42")
        assert [r["partner_code"] for r in ranking["items"]] == ["B", "A"]


class TestRawObservations:
    async def test_filters_and_pages_by_date(self, kpi: Kpi, partners: Partners) -> None:
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"kpi": "sales_amount", "partner_id": partners.a, "limit": 3}
            page = await kpi.ok("/observations", **params, **({"cursor": cursor} if cursor else {}))
            seen += [(o["occurred_on"], o["value"]) for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [
            ("2025-10-10", "80"),
            ("2026-09-15", "100"),
            ("2026-10-01", "60"),
            ("2026-10-20", "50"),
        ]
        october = await kpi.ok("/observations", **{"from": "2026-10-01", "to": "2026-10-04"})
        assert len(october["items"]) == 5


class TestPartnerPortal:
    async def test_sees_only_its_own_figures(self, kpi: Kpi, partners: Partners) -> None:
        portal = kpi.as_principal(("kpis:read",), partner_id=partners.c)
        problem(await portal.get("/kpis/sales_amount/series", partner_id=partners.a), 404)
        problem(await portal.get("/observations", partner_id=partners.a), 404)
        own = await portal.ok("/observations")
        assert {o["partner_id"] for o in own["items"]} == {partners.c}
        summary = await portal.ok("/kpis/sales_amount/summary", period="2026-10")
        assert [r["group"] for r in summary["items"]] == [partners.c]
        ranking = await portal.ok("/kpis/sales_amount/ranking", period="2026-10")
        assert [r["partner_code"] for r in ranking["items"]] == ["C"]
        assert await series(portal, granularity="month", first="2026-10", to="2026-10") == [
            ("2026-10", "30", 1)
        ]
