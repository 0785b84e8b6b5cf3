"""KPI definitions: the seeded set, creating, reading and changing them."""

from __future__ import annotations

import asyncio

from .conftest import Kpi, obs, problem

SEEDED = {
    "conversion_rate": ("avg", "ratio", "0.1", "0", "1"),
    "customer_satisfaction": ("avg", "score", "0.2", "0", "100"),
    "inventory_turnover": ("avg", "ratio", "0.15", "0", None),
    "retention_rate": ("avg", "ratio", "0.15", "0", "1"),
    "sales_amount": ("sum", "currency", "0.4", "0", None),
    "store_coverage": ("last", "count", "0", "0", None),
    "units_sold": ("sum", "count", "0", "0", None),
}
NEW = {"key": "returns_rate", "name": "Returns", "unit": "ratio", "aggregation": "avg"}


class TestSeededDefinitions:
    async def test_lists_the_design_set_with_weights_and_ranges(self, kpi: Kpi) -> None:
        page = await kpi.ok("/kpi-definitions")
        seen = {
            d["key"]: (d["aggregation"], d["unit"], d["weight"], d["min_value"], d["max_value"])
            for d in page["items"]
        }
        assert seen == SEEDED
        assert page["next_cursor"] is None

    async def test_pages_by_key(self, kpi: Kpi) -> None:
        first = await kpi.ok("/kpi-definitions", limit=4)
        second = await kpi.ok("/kpi-definitions", limit=4, cursor=first["next_cursor"])
        keys = [d["key"] for d in first["items"] + second["items"]]
        assert keys == sorted(SEEDED) and second["next_cursor"] is None


class TestCreateDefinition:
    async def test_creates_and_reads_back_with_etag(self, kpi: Kpi) -> None:
        body = {**NEW, "higher_is_better": False, "weight": 0.05, "max_value": "1"}
        created = await kpi.request("POST", "/kpi-definitions", json=body)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/api/v1/kpi-definitions/returns_rate"
        read = await kpi.get("/kpi-definitions/returns_rate")
        assert read.json()["weight"] == "0.05" and read.json()["higher_is_better"] is False
        assert read.headers["etag"] == created.headers["etag"] == '"1"'

    async def test_rejects_a_taken_key(self, kpi: Kpi) -> None:
        taken = await kpi.request("POST", "/kpi-definitions", json={**NEW, "key": "units_sold"})
        problem(taken, 409)

    async def test_rejects_invalid_keys_ranges_and_unknown_fields(self, kpi: Kpi) -> None:
        for body in (
            {**NEW, "key": "Returns"},
            {**NEW, "min_value": 2, "max_value": 1},
            {**NEW, "aggregation": "median"},
            {**NEW, "colour": "red"},
            {**NEW, "weight": "0.1234567"},
        ):
            problem(await kpi.request("POST", "/kpi-definitions", json=body), 422)

    async def test_partner_bound_principal_cannot_define(self, kpi: Kpi) -> None:
        portal = kpi.as_principal(partner_id=await kpi.partner())
        problem(await portal.request("POST", "/kpi-definitions", json=NEW), 403)

    async def test_needs_write_scope(self, kpi: Kpi) -> None:
        reader = kpi.as_principal(("kpis:read",))
        problem(await reader.request("POST", "/kpi-definitions", json=NEW), 403)


class TestUpdateDefinition:
    async def test_changes_fields_and_bumps_the_etag(self, kpi: Kpi) -> None:
        response = await kpi.request(
            "PATCH",
            "/kpi-definitions/units_sold",
            json={"name": "Units", "weight": "0.05"},
            headers={"If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Units" and response.json()["weight"] == "0.05"
        assert response.headers["etag"] == '"2"'

    async def test_stale_if_match_is_412(self, kpi: Kpi) -> None:
        await kpi.request("PATCH", "/kpi-definitions/units_sold", json={"name": "Units"})
        stale = await kpi.request(
            "PATCH", "/kpi-definitions/units_sold", json={"name": "U"}, headers={"If-Match": '"1"'}
        )
        problem(stale, 412)

    async def test_two_writers_with_one_etag_one_wins_one_gets_412(self, kpi: Kpi) -> None:
        # Found by the battery (H3) on PostgreSQL: both PATCHes passed the If-Match check
        # and both answered 200 (a lost update); the row is now locked before the check.
        for race in range(10):
            etag = (await kpi.get("/kpi-definitions/units_sold")).headers["ETag"]
            answers = await asyncio.gather(
                *(
                    kpi.request("PATCH", "/kpi-definitions/units_sold",
                                json={"name": f"Units {race}-{n}"}, headers={"If-Match": etag})
                    for n in range(2)
                )
            )  # fmt: skip
            assert sorted(r.status_code for r in answers) == [200, 412]
        final = await kpi.get("/kpi-definitions/units_sold")
        assert final.json()["version"] == 11

    async def test_aggregation_of_a_kpi_without_observations_can_change(self, kpi: Kpi) -> None:
        response = await kpi.request(
            "PATCH", "/kpi-definitions/store_coverage", json={"aggregation": "max"}
        )
        assert response.status_code == 200 and response.json()["aggregation"] == "max"

    async def test_aggregation_of_a_kpi_in_use_cannot_change(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        await kpi.ingest([obs(partner, "store_coverage", value=12)])
        conflict = await kpi.request(
            "PATCH", "/kpi-definitions/store_coverage", json={"aggregation": "sum"}
        )
        problem(conflict, 409)
        same = await kpi.request(
            "PATCH", "/kpi-definitions/store_coverage", json={"aggregation": "last", "name": "S"}
        )
        assert same.status_code == 200

    async def test_unknown_key_is_404_and_null_name_is_422(self, kpi: Kpi) -> None:
        problem(await kpi.request("PATCH", "/kpi-definitions/nope", json={"name": "x"}), 404)
        problem(await kpi.get("/kpi-definitions/nope"), 404)
        null = await kpi.request("PATCH", "/kpi-definitions/units_sold", json={"name": None})
        problem(null, 422)

    async def test_range_must_stay_ordered(self, kpi: Kpi) -> None:
        response = await kpi.request(
            "PATCH", "/kpi-definitions/conversion_rate", json={"min_value": 5}
        )
        problem(response, 422)
