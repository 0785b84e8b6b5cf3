"""Accruals of the open period, fed by KPI aggregate events (through the handler)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from channel_common import OutboxMessage, SQLModelSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

if TYPE_CHECKING:
    from conftest import Api, Feed


async def outbox(sessions: async_sessionmaker[SQLModelSession], subject: str) -> list[Any]:
    """The `data` of every outbox event of `subject`, oldest first."""
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.subject == subject)
        rows = (await session.exec(query.order_by(OutboxMessage.seq))).all()  # type: ignore[arg-type]
    return [json.loads(row.payload) for row in rows]


class TestAccruals:
    async def test_accrual_of_the_open_quarter_with_projection(self, api: Api, feed: Feed) -> None:
        pid = (await api.create_program())["id"]
        partner = await feed.partner()
        await feed.sales(
            partner["id"], {"2026-07": "50000.00", "2026-08": "20000.00", "2026-04": "1"}
        )
        response = await api.request("GET", "/accruals", params={"program_id": pid})
        assert response.status_code == 200, response.text
        (row,) = response.json()["items"]
        assert row["period"] == "2026-Q3"  # today is 2026-08-16, day 47 of 92
        assert (row["basis_value"], row["tier_index"], row["accrued_amount"]) == (
            "70000.00", 1, "2100.00",
        )  # fmt: skip
        assert (row["next_tier_from"], row["distance_to_next"]) == ("120000", "50000.00")
        assert row["projected_basis"] == "137021.28"  # 70,000 x 92 / 47
        assert row["projected_amount"] == "5480.85"

    async def test_figures_that_arrive_before_the_partner_accrue_when_it_does(
        self, api: Api, feed: Feed
    ) -> None:
        await api.create_program()
        partner_id = "5f2b8e8e-0c1e-4d8a-9a52-3f7f1d0b9c11"
        await feed.sales(partner_id, {"2026-07": "50000.00", "2026-08": "20000.00"})
        assert (await api.request("GET", "/accruals")).json()["items"] == []
        await feed.partner(id=partner_id)
        (row,) = (await api.request("GET", "/accruals")).json()["items"]
        assert (row["partner_id"], row["basis_value"], row["accrued_amount"]) == (
            partner_id, "70000.00", "2100.00",
        )  # fmt: skip

    async def test_a_program_created_after_the_figures_accrues_at_once(
        self, api: Api, feed: Feed
    ) -> None:
        # Found by the e2e story: a program set up mid-quarter showed no accruals until the
        # next KPI event, however much its partners had already sold.
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "50000.00", "2026-08": "20000.00"})
        assert (await api.request("GET", "/accruals")).json()["items"] == []
        pid = (await api.create_program())["id"]
        (row,) = (await api.request("GET", "/accruals", params={"program_id": pid})).json()["items"]
        # 50,000 + 20,000 = 70,000 >= 50,000: 3 %, 70,000 x 0.03 = 2,100.00.
        assert (row["partner_id"], row["basis_value"], row["tier_index"]) == (
            partner["id"], "70000.00", 1,
        )  # fmt: skip
        assert row["accrued_amount"] == "2100.00"
        assert await api.create_program(status="draft")  # a draft accrues nothing
        assert len((await api.request("GET", "/accruals")).json()["items"]) == 1

    async def test_a_replaced_program_accrues_under_its_new_terms(
        self, api: Api, feed: Feed, program_body: Any
    ) -> None:
        pid = (await api.create_program())["id"]
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "70000.00"})
        tiers = [{"from": "0", "rate": "0.01"}, {"from": "50000", "rate": "0.05"}]
        replaced = await api.request(
            "PUT", f"/rebate-programs/{pid}", json=program_body(tiers=tiers)
        )
        assert replaced.status_code == 200, replaced.text
        (row,) = (await api.request("GET", "/accruals", params={"program_id": pid})).json()["items"]
        # 70,000 x 0.05 = 3,500.00 (it was 70,000 x 0.03 = 2,100.00 under version 1).
        assert (row["tier_index"], row["accrued_amount"]) == (1, "3500.00")

    async def test_only_active_programs_valid_today_accrue(self, api: Api, feed: Feed) -> None:
        await api.create_program(status="draft")
        await api.create_program(valid_from="2026-09-01")
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "5000"})
        assert (await api.request("GET", "/accruals")).json()["items"] == []

    async def test_ineligible_partners_do_not_accrue(self, api: Api, feed: Feed) -> None:
        await api.create_program(eligibility={"tiers": ["platinum"]})
        gold, platinum = await feed.partner(tier="gold"), await feed.partner(tier="platinum")
        for partner in (gold, platinum):
            await feed.sales(partner["id"], {"2026-07": "5000"})
        rows = (await api.request("GET", "/accruals")).json()["items"]
        assert [r["partner_id"] for r in rows] == [platinum["id"]]

    async def test_accrual_updates_are_batched_per_event(
        self, api: Api, feed: Feed, make_update: Any, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        await api.create_program()
        await api.create_program(period="month")
        first, second = await feed.partner(), await feed.partner()
        await feed.aggregates(
            make_update(first["id"], "2026-08", "100"), make_update(second["id"], "2026-08", "200")
        )
        (event,) = await outbox(sessions, "rebate.accrual.updated.v1")
        assert sorted((a["period"], a["basis_value"]) for a in event["accruals"]) == [
            ("2026-08", "100"), ("2026-08", "200"), ("2026-Q3", "100"), ("2026-Q3", "200"),
        ]  # fmt: skip


class TestTierReached:
    async def test_each_crossing_is_announced_once(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        pid = (await api.create_program())["id"]
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "30000"})  # tier 0
        await feed.sales(partner["id"], {"2026-08": "25000"})  # 55,000: tier 1
        await feed.sales(partner["id"], {"2026-08": "26000"})  # still tier 1
        events = await outbox(sessions, "rebate.tier.reached.v1")
        assert [(e["tier_index"], e["previous_tier_index"], e["basis_value"]) for e in events] == [
            (0, None, "30000"),
            (1, 0, "55000"),
        ]
        assert {e["program_id"] for e in events} == {pid}
        assert events[1]["tier_from"] == "50000" and events[1]["rate"] == "0.03"
