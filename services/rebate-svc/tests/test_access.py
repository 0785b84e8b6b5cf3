"""Scopes and partner binding: a partner portal sees its own statements and accruals only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api, Feed


@pytest.fixture
async def two_partners(api: Api, feed: Feed) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A program with an accrual and a statement for each of two partners."""
    pid = (await api.create_program())["id"]
    mine, theirs = await feed.partner(), await feed.partner()
    for partner in (mine, theirs):
        await feed.sales(partner["id"], {"2026-07": "60000"})
    await api.run(pid, "2026-Q3")
    return pid, mine, theirs


class TestPartnerBound:
    async def test_sees_only_its_own_statements(
        self, api: Api, two_partners: tuple[str, dict[str, Any], dict[str, Any]]
    ) -> None:
        _, mine, theirs = two_partners
        portal = api.as_principal(("rebates:read",), partner_id=mine["id"])
        listed = (await portal.request("GET", "/rebate-statements")).json()["items"]
        assert {s["partner_id"] for s in listed} == {mine["id"]}
        (other,) = await api.statements(partner_id=theirs["id"])
        api.problem(await portal.request("GET", f"/rebate-statements/{other['id']}"), 404)
        response = await portal.request(
            "GET", "/rebate-statements", params={"partner_id": theirs["id"]}
        )
        api.problem(response, 404)

    async def test_sees_only_its_own_accruals_and_run_lines(
        self, api: Api, two_partners: tuple[str, dict[str, Any], dict[str, Any]]
    ) -> None:
        pid, mine, _ = two_partners
        portal = api.as_principal(("rebates:read",), partner_id=mine["id"])
        rows = (await portal.request("GET", "/accruals")).json()["items"]
        assert [r["partner_id"] for r in rows] == [mine["id"]]
        assert len((await api.request("GET", "/accruals")).json()["items"]) == 2
        run_id = (
            await api.request("POST", "/rebate-runs", json={"program_id": pid, "period": "2026-Q3"})
        ).json()["id"]
        run = (await portal.request("GET", f"/rebate-runs/{run_id}")).json()
        assert [s["partner_id"] for s in run["statements"]] == [mine["id"]]
        assert run["total_amount"] == "1800.00"

    async def test_cannot_approve_or_change_anything(
        self, api: Api, two_partners: tuple[str, dict[str, Any], dict[str, Any]], program_body: Any
    ) -> None:
        pid, mine, _ = two_partners
        portal = api.as_principal(partner_id=mine["id"])
        (own,) = await api.statements(partner_id=mine["id"])
        api.problem(await portal.request("POST", f"/rebate-statements/{own['id']}/approve"), 403)
        api.problem(await portal.request("POST", "/rebate-programs", json=program_body()), 403)
        run = {"program_id": pid, "period": "2026-Q3"}
        api.problem(await portal.request("POST", "/rebate-runs", json=run), 403)


class TestScopes:
    async def test_reading_needs_rebates_read(self, api: Api) -> None:
        nobody = api.as_principal(("kpis:read",))
        api.problem(await nobody.request("GET", "/rebate-statements"), 403)
        api.problem(await nobody.request("GET", "/accruals"), 403)

    async def test_writing_needs_rebates_write(self, api: Api, program_body: Any) -> None:
        reader = api.as_principal(("rebates:read",))
        api.problem(await reader.request("POST", "/rebate-programs", json=program_body()), 403)

    async def test_no_token_is_401(self, api: Api) -> None:
        response = await api.client.get("/api/v1/rebate-programs")
        api.problem(response, 401)
