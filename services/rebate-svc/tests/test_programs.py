"""Rebate programs over HTTP: create, validate, version, retire, simulate."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Api

    Body = Callable[..., dict[str, Any]]


class TestCreateProgram:
    async def test_creates_version_one_with_exact_decimals(
        self, api: Api, program_body: Body
    ) -> None:
        response = await api.request(
            "POST",
            "/rebate-programs",
            json=program_body(cap=12000.5, tiers=[{"from": 0, "rate": 0.015}]),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["version"] == 1
        assert response.headers["ETag"] == '"1"'
        assert body["tiers"] == [{"from": "0", "rate": "0.015"}]
        assert body["cap"] == "12000.50"
        assert body["basis"] == {"kpi": "sales_amount", "type": "volume"}
        assert body["eligibility"] == {"tiers": [], "types": [], "regions": [], "partner_ids": []}

    @pytest.mark.parametrize(
        ("overrides", "loc"),
        [
            (
                {"tiers": [{"from": 10, "rate": "0.01"}, {"from": 10, "rate": "0.02"}]},
                ["body", "tiers", 1, "from"],
            ),
            ({"tiers": [{"from": 0, "rate": "1.5"}]}, ["body", "tiers", 0, "rate"]),
            ({"tiers": [{"from": 0, "rate": "-0.1"}]}, ["body", "tiers", 0, "rate"]),
            ({"currency": "XYZ"}, ["body", "currency"]),
            ({"valid_from": "2026-12-01", "valid_to": "2026-01-01"}, ["body", "valid_to"]),
            ({"basis": {"kpi": "conversion_rate", "type": "volume"}}, ["body", "basis", "kpi"]),
            ({"cap": "10.001"}, ["body", "cap"]),
        ],
    )
    async def test_rejects_invalid_programs_naming_the_field(
        self, api: Api, program_body: Body, overrides: dict[str, Any], loc: list[Any]
    ) -> None:
        response = await api.request("POST", "/rebate-programs", json=program_body(**overrides))
        body = api.problem(response, 422)
        assert loc in [e["loc"] for e in body["errors"]]

    async def test_a_growth_basis_may_use_any_kpi(self, api: Api) -> None:
        program = await api.create_program(basis={"kpi": "store_coverage", "type": "growth"})
        assert program["basis"]["type"] == "growth"

    async def test_rejects_unknown_fields(self, api: Api, program_body: Body) -> None:
        response = await api.request("POST", "/rebate-programs", json=program_body(owner="me"))
        api.problem(response, 422)


class TestVersions:
    async def test_put_makes_a_new_version_and_keeps_the_old_one(
        self, api: Api, program_body: Body
    ) -> None:
        program = await api.create_program()
        pid = program["id"]
        body = program_body(name="Renamed", tiers=[{"from": 0, "rate": "0.02"}])
        response = await api.request(
            "PUT", f"/rebate-programs/{pid}", json=body, headers={"If-Match": '"1"'}
        )
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 2
        assert response.headers["ETag"] == '"2"'
        current = (await api.request("GET", f"/rebate-programs/{pid}")).json()
        first = (await api.request("GET", f"/rebate-programs/{pid}", params={"version": 1})).json()
        assert (current["name"], current["version"]) == ("Renamed", 2)
        assert (first["name"], first["tiers"][0]["rate"]) == ("Q sales rebate", "0.01")
        listed = (await api.request("GET", "/rebate-programs")).json()["items"]
        assert [(p["id"], p["version"]) for p in listed] == [(pid, 2)]

    async def test_stale_if_match_is_refused(self, api: Api, program_body: Body) -> None:
        pid = (await api.create_program())["id"]
        await api.request("PUT", f"/rebate-programs/{pid}", json=program_body())
        response = await api.request(
            "PUT", f"/rebate-programs/{pid}", json=program_body(), headers={"If-Match": '"1"'}
        )
        api.problem(response, 412)

    async def test_two_writers_with_one_etag_one_wins_one_gets_412(
        self, api: Api, program_body: Body
    ) -> None:
        # Found by the battery (H3) on PostgreSQL: the writer that waited for the row lock
        # found no current version any more and answered 404 instead of 412.
        pid = (await api.create_program())["id"]
        for race in range(10):
            etag = (await api.request("GET", f"/rebate-programs/{pid}")).headers["ETag"]
            answers = await asyncio.gather(
                *(
                    api.request("PUT", f"/rebate-programs/{pid}", headers={"If-Match": etag},
                                json=program_body(name=f"contender {race}-{n}"))
                    for n in range(2)
                )
            )  # fmt: skip
            assert sorted(r.status_code for r in answers) == [200, 412], [r.text for r in answers]
        final = await api.request("GET", f"/rebate-programs/{pid}")
        assert final.json()["version"] == 11

    async def test_retire_makes_a_retired_version(self, api: Api, program_body: Body) -> None:
        pid = (await api.create_program())["id"]
        response = await api.request("POST", f"/rebate-programs/{pid}/retire")
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["version"]) == ("retired", 2)
        again = await api.request(
            "PUT", f"/rebate-programs/{pid}", json=program_body(status="active")
        )
        api.problem(again, 409)
        retired = await api.request("GET", "/rebate-programs", params={"status": "retired"})
        assert [p["id"] for p in retired.json()["items"]] == [pid]

    async def test_unknown_program_is_404(self, api: Api) -> None:
        response = await api.request("GET", "/rebate-programs/00000000-0000-0000-0000-000000000000")
        api.problem(response, 404)

    async def test_a_version_beyond_the_column_range_is_422(self, api: Api) -> None:
        # Found by the battery (H1): ?version=55273728893934723072 overflowed SQLite's INTEGER.
        pid = (await api.create_program())["id"]
        for version in ("55273728893934723072", str(2**31)):
            response = await api.request(
                "GET", f"/rebate-programs/{pid}", params={"version": version}
            )
            api.problem(response, 422)
        largest = await api.request("GET", f"/rebate-programs/{pid}", params={"version": 2**31 - 1})
        api.problem(largest, 404)

    async def test_lists_page_by_cursor(self, api: Api) -> None:
        ids = sorted([(await api.create_program())["id"] for _ in range(3)])
        first = (await api.request("GET", "/rebate-programs", params={"limit": 2})).json()
        second = (
            await api.request(
                "GET", "/rebate-programs", params={"limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        assert [p["id"] for p in first["items"] + second["items"]] == ids
        assert second["next_cursor"] is None


class TestSimulate:
    async def test_simulates_the_worked_example(self, api: Api) -> None:
        pid = (await api.create_program(method="incremental"))["id"]
        response = await api.request(
            "POST", f"/rebate-programs/{pid}/simulate", json={"basis_value": 150000}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["amount"] == "3800.00"
        assert body["tier_index"] == 2
        assert body["lines"][1] == {
            "from": "50000", "to": "120000", "rate": "0.03", "base": "70000", "amount": "2100.00",
        }  # fmt: skip
        assert body["next_tier"] is None

    async def test_reports_the_next_tier(self, api: Api) -> None:
        pid = (await api.create_program())["id"]
        response = await api.request(
            "POST", f"/rebate-programs/{pid}/simulate", json={"basis_value": "100000.00"}
        )
        assert response.json()["next_tier"] == {
            "from": "120000", "distance": "20000.00", "amount_at_next": "4800.00",
        }  # fmt: skip

    async def test_growth_without_prior_value_is_no_baseline(self, api: Api) -> None:
        pid = (
            await api.create_program(
                basis={"kpi": "sales_amount", "type": "growth"},
                tiers=[{"from": "0.1", "rate": "0.02"}],
            )
        )["id"]
        url = f"/rebate-programs/{pid}/simulate"
        none = (await api.request("POST", url, json={"basis_value": 1000})).json()
        grown = (
            await api.request("POST", url, json={"basis_value": 1200, "prior_value": 1000})
        ).json()
        assert (none["reason"], none["amount"]) == ("no_baseline", "0.00")
        assert (grown["growth"], grown["amount"]) == ("0.2", "24.00")
