"""Targets per scope (most specific wins) and the health score measured against them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from .conftest import Kpi, obs, problem


def target(kpi: str, value: Any, period: str = "2026-10", **scope: str) -> dict[str, Any]:
    return {"kpi": kpi, "period": period, "scope": scope, "value": value}


async def put(kpi: Kpi, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = await kpi.request("PUT", "/targets", json=targets)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


class TestSetTargets:
    async def test_sets_and_lists_targets_with_their_scopes(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        stored = await put(
            kpi,
            [
                target("sales_amount", 1000, partner_id=partner),
                target("sales_amount", "900.5", tier="gold"),
                target("sales_amount", 800, region="CN-GD"),
                target("sales_amount", 700),
                target("conversion_rate", "0.3", period="2026-Q4"),
            ],
        )
        assert [(t["scope"], t["value"]) for t in stored] == [
            ({"partner_id": partner}, "1000"),
            ({"tier": "gold"}, "900.5"),
            ({"region": "CN-GD"}, "800"),
            ({}, "700"),
            ({}, "0.3"),
        ]
        await put(kpi, [target("sales_amount", 750)])
        listed = await kpi.ok("/targets", kpi="sales_amount", period="2026-10")
        assert sorted(t["value"] for t in listed["items"]) == ["1000", "750", "800", "900.5"]
        page = await kpi.ok("/targets", limit=3)
        rest = await kpi.ok("/targets", limit=3, cursor=page["next_cursor"])
        assert len(page["items"]) + len(rest["items"]) == 5 and rest["next_cursor"] is None

    async def test_rejects_invalid_targets_and_stores_none(self, kpi: Kpi) -> None:
        for bad in (
            [target("footfall", 1)],
            [target("sales_amount", 1, period="2026-13")],
            [target("sales_amount", 1, partner_id=str(uuid.uuid4()))],
            [target("sales_amount", 1, tier="gold", region="CN")],
            [target("sales_amount", 1), target("sales_amount", 2)],
            [{**target("sales_amount", 1), "owner": "me"}],
            [],
        ):
            problem(await kpi.request("PUT", "/targets", json=bad), 422)
        assert (await kpi.ok("/targets"))["items"] == []

    async def test_partners_cannot_set_targets_nor_see_others(self, kpi: Kpi) -> None:
        own, other = await kpi.partner(), await kpi.partner()
        await put(
            kpi,
            [
                target("sales_amount", 1, partner_id=own),
                target("sales_amount", 2, partner_id=other),
                target("sales_amount", 3),
            ],
        )
        portal = kpi.as_principal(partner_id=own)
        problem(await portal.request("PUT", "/targets", json=[target("sales_amount", 9)]), 403)
        visible = await portal.ok("/targets")
        assert sorted(t["value"] for t in visible["items"]) == ["1", "3"]


class TestTargetSetETag:
    async def test_put_and_get_answer_the_etag_of_the_whole_set(self, kpi: Kpi) -> None:
        empty = (await kpi.get("/targets")).headers["ETag"]
        first = await kpi.request("PUT", "/targets", json=[target("sales_amount", 1)])
        listed = await kpi.get("/targets", kpi="units_sold")  # another filter, the same set
        second = await kpi.request("PUT", "/targets", json=[target("units_sold", 2)])
        assert first.status_code == second.status_code == 200
        assert len({empty, first.headers["ETag"], second.headers["ETag"]}) == 3
        assert listed.headers["ETag"] == first.headers["ETag"]
        assert (await kpi.get("/targets")).headers["ETag"] == second.headers["ETag"]

    async def test_a_stale_if_match_is_412_and_writes_nothing(self, kpi: Kpi) -> None:
        stale = (await kpi.request("PUT", "/targets", json=[target("sales_amount", 1)])).headers
        current = (await kpi.request("PUT", "/targets", json=[target("sales_amount", 2)])).headers
        refused = await kpi.request(
            "PUT",
            "/targets",
            json=[target("sales_amount", 3), target("units_sold", 4)],
            headers={"If-Match": stale["ETag"]},
        )
        problem(refused, 412)
        after = await kpi.get("/targets")
        assert [(t["kpi"], t["value"]) for t in after.json()["items"]] == [("sales_amount", "2")]
        assert after.headers["ETag"] == current["ETag"]

    async def test_a_matching_if_match_or_star_proceeds_with_a_new_etag(self, kpi: Kpi) -> None:
        etag = (await kpi.get("/targets")).headers["ETag"]
        matched = await kpi.request(
            "PUT", "/targets", json=[target("sales_amount", 5)], headers={"If-Match": etag}
        )
        assert matched.status_code == 200, matched.text
        assert matched.headers["ETag"] != etag
        starred = await kpi.request(
            "PUT", "/targets", json=[target("sales_amount", 6)], headers={"If-Match": "*"}
        )
        assert starred.status_code == 200, starred.text
        assert starred.headers["ETag"] not in (etag, matched.headers["ETag"])
        assert [t["value"] for t in (await kpi.ok("/targets"))["items"]] == ["6"]

    async def test_a_rejected_put_keeps_the_etag(self, kpi: Kpi) -> None:
        etag = (await kpi.request("PUT", "/targets", json=[target("sales_amount", 1)])).headers
        problem(await kpi.request("PUT", "/targets", json=[target("footfall", 1)]), 422)
        portal = kpi.as_principal(partner_id=str(uuid.uuid4()))
        problem(await portal.request("PUT", "/targets", json=[target("sales_amount", 9)]), 403)
        assert (await kpi.get("/targets")).headers["ETag"] == etag["ETag"]

    async def test_two_writers_with_one_etag_one_wins_one_gets_412(self, kpi: Kpi) -> None:
        for race in range(5):
            etag = (await kpi.get("/targets")).headers["ETag"]
            answers = await asyncio.gather(
                *(
                    kpi.request("PUT", "/targets", json=[target("sales_amount", race * 10 + n)],
                                headers={"If-Match": etag})
                    for n in range(2)
                )
            )  # fmt: skip
            assert sorted(r.status_code for r in answers) == [200, 412]
            (winner,) = [r for r in answers if r.status_code == 200]
            listed = await kpi.get("/targets")
            assert listed.headers["ETag"] == winner.headers["ETag"]
            assert listed.json()["items"][0]["value"] == winner.json()[0]["value"]

    async def test_openapi_declares_412(self, kpi: Kpi) -> None:
        document = (await kpi.client.get("/openapi.json")).json()
        assert "412" in document["paths"]["/api/v1/targets"]["put"]["responses"]


class TestTargetResolution:
    async def test_the_most_specific_scope_wins(self, kpi: Kpi) -> None:
        own = await kpi.partner(tier="gold", region="CN-GD-SZ")
        gold = await kpi.partner(tier="gold", region="CN-GD-SZ")
        shenzhen = await kpi.partner(tier="silver", region="CN-GD-SZ")
        beijing = await kpi.partner(tier="silver", region="CN-BJ")
        abroad = await kpi.partner(tier="silver", region="US-CA")
        await put(
            kpi,
            [
                target("units_sold", 1, partner_id=own),
                target("units_sold", 2, tier="gold"),
                target("units_sold", 3, region="CN"),
                target("units_sold", 4, region="CN-GD"),
                target("units_sold", 5),
            ],
        )
        expected = {own: "1", gold: "2", shenzhen: "4", beijing: "3", abroad: "5"}
        for partner, value in expected.items():
            card = await kpi.ok(f"/scorecards/{partner}", period="2026-10")
            (units,) = [c for c in card["components"] if c["kpi"] == "units_sold"]
            assert units["target"] == value

    async def test_a_period_uses_only_its_own_targets(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        await put(kpi, [target("units_sold", 30, period="2026-Q4")])
        month = await kpi.ok(f"/scorecards/{partner}", period="2026-10")
        quarter = await kpi.ok(f"/scorecards/{partner}", period="2026-Q4")
        targets = [{c["kpi"]: c["target"] for c in card["components"]} for card in (month, quarter)]
        assert targets[0]["units_sold"] is None and targets[1]["units_sold"] == "30"


class TestScorecard:
    async def test_health_score_of_a_hand_computed_example(self, kpi: Kpi) -> None:
        created = await kpi.request(
            "POST",
            "/kpi-definitions",
            json={
                "key": "days_to_pay",
                "name": "Days to pay",
                "unit": "days",
                "aggregation": "avg",
                "higher_is_better": False,
                "weight": "0.1",
            },
        )
        assert created.status_code == 201
        p = await kpi.partner(tier="gold", region="CN-GD-SZ")
        await kpi.ingest(
            [
                obs(p, value="50000", occurred_on="2026-10-01"),
                obs(p, value="40000", occurred_on="2026-10-31"),
                obs(p, "conversion_rate", value="0.3"),
                obs(p, "customer_satisfaction", value="70"),
                obs(p, "customer_satisfaction", value="90"),
                obs(p, "retention_rate", value="0.5"),
                obs(p, "days_to_pay", value="50"),
                obs(p, "units_sold", value="10"),
                obs(p, value="1", occurred_on="2026-11-01"),  # another month: not counted
            ]
        )
        await put(
            kpi,
            [
                target("sales_amount", 100000, partner_id=p),
                target("conversion_rate", "0.25", tier="gold"),
                target("customer_satisfaction", 50, region="CN"),
                target("customer_satisfaction", 100, region="CN-GD"),
                target("customer_satisfaction", 200),
                target("inventory_turnover", 4),
                target("days_to_pay", 40),
                target("units_sold", 20),
            ],
        )
        card = await kpi.ok(f"/scorecards/{p}", period="2026-10")
        # Σ weight = 0.4 + 0.1 + 0.2 + 0.1 + 0 = 0.8
        # Σ weight·min(attainment, 1) = 0.36 + 0.1 + 0.16 + 0.08 + 0 = 0.70 → 87.5
        assert card["health_score"] == "87.5"
        rows = {
            c["kpi"]: (c["value"], c["target"], c["attainment"], c["weight"], c["contribution"])
            for c in card["components"]
        }
        assert rows == {
            "conversion_rate": ("0.3", "0.25", "1.2", "0.1", "12.5"),
            "customer_satisfaction": ("80", "100", "0.8", "0.2", "20"),
            "days_to_pay": ("50", "40", "0.8", "0.1", "10"),
            "inventory_turnover": (None, "4", None, "0.15", None),
            "retention_rate": ("0.5", None, None, "0.15", None),
            "sales_amount": ("90000", "100000", "0.9", "0.4", "45"),
            "store_coverage": (None, None, None, "0", None),
            "units_sold": ("10", "20", "0.5", "0", "0"),
        }

    async def test_no_scorable_kpi_gives_no_score(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        card = await kpi.ok(f"/scorecards/{partner}", period="2026")
        assert card["health_score"] is None and len(card["components"]) == 7

    async def test_unknown_or_foreign_partners_are_404(self, kpi: Kpi) -> None:
        own, other = await kpi.partner(), await kpi.partner()
        problem(await kpi.get(f"/scorecards/{uuid.uuid4()}", period="2026-10"), 404)
        portal = kpi.as_principal(("kpis:read",), partner_id=own)
        problem(await portal.get(f"/scorecards/{other}", period="2026-10"), 404)
        assert (await portal.get(f"/scorecards/{own}", period="2026-10")).status_code == 200
        problem(await kpi.get(f"/scorecards/{own}", period="October"), 422)
