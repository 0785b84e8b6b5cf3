"""Which months a run sums, and what happens to partners who stop being eligible."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Api, Feed


class TestPeriods:
    async def test_a_yearly_program_sums_the_years_months(self, api: Api, feed: Feed) -> None:
        partner = await feed.partner()
        await feed.sales(
            partner["id"],
            {"2026-01": "1000", "2026-06": "2000.50", "2026-12": "3000", "2025-12": "9"},
        )
        pid = (await api.create_program(period="year", tiers=[{"from": "1", "rate": "0.1"}]))["id"]
        (statement,) = (await api.run(pid, "2026"))["statements"]
        assert statement["amount"] == "600.05"  # 6,000.50 x 10%

    async def test_a_monthly_program_reads_one_month(self, api: Api, feed: Feed) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "100", "2026-08": "200"})
        pid = (await api.create_program(period="month", tiers=[{"from": "1", "rate": "0.1"}]))["id"]
        (statement,) = (await api.run(pid, "2026-08"))["statements"]
        assert (await api.statement(statement["id"]))["basis_value"] == "200"


class TestEligibilityChanges:
    async def test_a_draft_of_a_partner_no_longer_eligible_is_voided(
        self, api: Api, feed: Feed
    ) -> None:
        partner = await feed.partner(version=1)
        await feed.sales(partner["id"], {"2026-07": "100"})
        pid = (await api.create_program())["id"]
        (statement,) = (await api.run(pid, "2026-Q3"))["statements"]
        await feed.partner(id=partner["id"], version=2, status="suspended")
        await api.run(pid, "2026-Q3")
        assert (await api.statement(statement["id"]))["status"] == "void"

    async def test_partner_ids_restrict_eligibility(self, api: Api, feed: Feed) -> None:
        chosen, other = await feed.partner(), await feed.partner()
        pid = (await api.create_program(eligibility={"partner_ids": [chosen["id"]]}))["id"]
        run = await api.run(pid, "2026-Q3")
        assert [s["partner_id"] for s in run["statements"]] == [chosen["id"]]
        assert other["id"] not in {s["partner_id"] for s in await api.statements()}
