"""Runs and statements over HTTP: who gets a statement, recomputation, adjustments,
approval, payment, and the events written to the outbox."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from channel_common import OutboxMessage, SQLModelSession
from rebate_svc.events import StatementEvent
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

if TYPE_CHECKING:
    from conftest import Api, Feed

Q3 = {"2026-07": "50000.00", "2026-08": "50000.00", "2026-09": "52300.00"}


async def outbox(sessions: async_sessionmaker[SQLModelSession], subject: str) -> list[Any]:
    """The `data` of every outbox event of `subject`, oldest first."""
    async with sessions() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.subject == subject)
                .order_by(OutboxMessage.seq)  # type: ignore[arg-type]
            )
        ).all()
    return [json.loads(row.payload) for row in rows]


class TestRun:
    async def test_every_eligible_partner_gets_a_statement(self, api: Api, feed: Feed) -> None:
        rich = await feed.partner(region="CN-GD-SZ")
        poor = await feed.partner()
        silent = await feed.partner(region="CN-GD")
        await feed.partner(status="suspended")
        await feed.partner(region="CN-BJ")
        await feed.partner(type="agent")
        await feed.sales(rich["id"], Q3)
        await feed.sales(poor["id"], {"2026-07": "10000.00", "2026-10": "99999.00"})
        program = await api.create_program(
            eligibility={"regions": ["CN-GD"], "types": ["distributor", "retailer"]}
        )
        run = await api.run(program["id"], "2026-Q3")
        assert run["status"] == "completed"
        amounts = {s["partner_id"]: s["amount"] for s in run["statements"]}
        assert amounts == {rich["id"]: "6092.00", poor["id"]: "100.00", silent["id"]: "0.00"}
        assert run["total_amount"] == "6192.00"
        (statement,) = await api.statements(partner_id=rich["id"])
        detail = await api.statement(statement["id"])
        assert detail["basis_value"] == "152300.00"
        assert detail["tier_index"] == 2
        assert (detail["kind"], detail["status"], detail["program_version"]) == (
            "original",
            "draft",
            1,
        )
        assert detail["lines"] == [
            {"from": "120000", "to": None, "rate": "0.04", "base": "152300.00", "amount": "6092.00"}
        ]
        assert detail["explanation"].startswith(
            "2026-Q3 sales_amount 152,300.00 reached tier 3 (from 120,000.00) at 4%: "
        )
        (zero,) = await api.statements(partner_id=silent["id"])
        assert (zero["amount"], zero["reason"], zero["tier_index"]) == (
            "0.00",
            "below_first_tier",
            None,
        )

    async def test_below_first_tier_and_qualifier_failures_carry_a_reason(
        self, api: Api, feed: Feed
    ) -> None:
        low, gated = await feed.partner(), await feed.partner()
        await feed.sales(low["id"], {"2026-07": "100.00"})
        await feed.sales(gated["id"], Q3)
        await feed.sales(gated["id"], {"2026-07": "0.05", "2026-08": "0.07"}, kpi="conversion_rate")
        program = await api.create_program(
            tiers=[{"from": "1000", "rate": "0.02"}],
            qualifiers=[{"kpi": "conversion_rate", "op": "gte", "value": "0.1"}],
        )
        await api.run(program["id"], "2026-Q3")
        by_partner = {s["partner_id"]: s for s in await api.statements(program_id=program["id"])}
        assert by_partner[low["id"]]["reason"] == "qualifier_failed"
        detail = await api.statement(by_partner[gated["id"]]["id"])
        assert (detail["reason"], detail["amount"], detail["gross_amount"]) == (
            "qualifier_failed", "0.00", "3046.00",
        )  # fmt: skip
        assert detail["qualifier_results"] == [
            {
                "kpi": "conversion_rate",
                "op": "gte",
                "value": "0.1",
                "actual": "0.06",
                "passed": False,
            }
        ]
        assert "conversion_rate ≥ 0.1 failed (actual 0.06)" in detail["explanation"]

    async def test_growth_program_without_last_year_is_no_baseline(
        self, api: Api, feed: Feed
    ) -> None:
        new, old = await feed.partner(), await feed.partner()
        await feed.sales(new["id"], {"2026-07": "1000"})
        await feed.sales(old["id"], {"2026-07": "1200", "2025-08": "1000"})
        program = await api.create_program(
            basis={"kpi": "sales_amount", "type": "growth"}, tiers=[{"from": "0.1", "rate": "0.05"}]
        )
        await api.run(program["id"], "2026-Q3")
        by_partner = {s["partner_id"]: s for s in await api.statements(program_id=program["id"])}
        assert (by_partner[new["id"]]["reason"], by_partner[new["id"]]["amount"]) == (
            "no_baseline",
            "0.00",
        )
        assert by_partner[old["id"]]["amount"] == "60.00"

    async def test_rejects_a_period_of_the_wrong_kind_or_outside_validity(self, api: Api) -> None:
        pid = (await api.create_program())["id"]
        for period in ("2026-07", "2027-Q1", "2026-Q5"):
            response = await api.request(
                "POST", "/rebate-runs", json={"program_id": pid, "period": period}
            )
            assert api.problem(response, 422)["errors"][0]["loc"] == ["body", "period"]

    async def test_unknown_program_or_run_is_404(self, api: Api) -> None:
        missing = "00000000-0000-0000-0000-000000000000"
        response = await api.request(
            "POST", "/rebate-runs", json={"program_id": missing, "period": "2026-Q3"}
        )
        api.problem(response, 404)
        api.problem(await api.request("GET", f"/rebate-runs/{missing}"), 404)

    async def test_accrual_and_statement_cursors_must_be_ours(self, api: Api) -> None:
        cursors = {
            "/accruals": "WyJ4IiwieSJd",  # ["x", "y"]
            "/rebate-statements": "WyJ4Il0",  # ["x"]
            "/rebate-programs": "bm90LWEtY3Vyc29y",  # not JSON
        }
        for url, cursor in cursors.items():
            response = await api.request("GET", url, params={"cursor": cursor})
            api.problem(response, 422)
        api.problem(await api.request("GET", "/rebate-statements", params={"limit": 501}), 422)

    async def test_run_creation_honours_idempotency_key(self, api: Api, feed: Feed) -> None:
        await feed.partner()
        pid = (await api.create_program())["id"]
        body = {"program_id": pid, "period": "2026-Q3"}
        key = {"Idempotency-Key": "run-q3"}
        first = await api.request("POST", "/rebate-runs", json=body, headers=key)
        again = await api.request("POST", "/rebate-runs", json=body, headers=key)
        assert first.status_code == again.status_code == 202
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert len(await api.statements(program_id=pid)) == 1
        other = await api.request(
            "POST", "/rebate-runs", json={**body, "period": "2026-Q2"}, headers=key
        )
        api.problem(other, 422)


class TestRerun:
    async def test_recomputes_drafts_in_place(self, api: Api, feed: Feed) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "40000"})
        pid = (await api.create_program())["id"]
        (before,) = (await api.run(pid, "2026-Q3"))["statements"]
        await feed.sales(partner["id"], {"2026-08": "20000"})
        (after,) = (await api.run(pid, "2026-Q3"))["statements"]
        assert after["id"] == before["id"]
        assert (before["amount"], after["amount"]) == ("400.00", "1800.00")
        assert len(await outbox(feed.sessions, "rebate.statement.created.v1")) == 1

    async def test_late_data_after_approval_makes_an_adjustment_of_the_difference(
        self, api: Api, feed: Feed
    ) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "100000"})
        pid = (await api.create_program())["id"]
        (original,) = (await api.run(pid, "2026-Q3"))["statements"]
        approved = await api.request("POST", f"/rebate-statements/{original['id']}/approve")
        assert approved.status_code == 200, approved.text
        await feed.sales(partner["id"], {"2026-09": "52300.00"})
        run = await api.run(pid, "2026-Q3")
        (adjustment,) = run["statements"]
        assert (adjustment["kind"], adjustment["status"]) == ("adjustment", "draft")
        assert adjustment["amount"] == "3092.00"  # 6,092.00 - 3,000.00 approved
        unchanged = await api.statement(original["id"])
        assert (unchanged["amount"], unchanged["status"]) == ("3000.00", "approved")
        again = await api.run(pid, "2026-Q3")  # nothing new: the pending adjustment is the same
        assert [s["id"] for s in again["statements"]] == [adjustment["id"]]
        assert again["statements"][0]["amount"] == "3092.00"
        detail = await api.statement(adjustment["id"])
        assert detail["explanation"].startswith("Adjustment: the period recomputed to 6,092.00 EUR")

    async def test_adjustment_disappears_when_the_difference_does(
        self, api: Api, feed: Feed
    ) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "100000"})
        pid = (await api.create_program())["id"]
        (original,) = (await api.run(pid, "2026-Q3"))["statements"]
        await api.request("POST", f"/rebate-statements/{original['id']}/approve")
        await feed.sales(partner["id"], {"2026-09": "1000"})
        (adjustment,) = (await api.run(pid, "2026-Q3"))["statements"]
        await feed.sales(partner["id"], {"2026-09": "0"})
        await api.run(pid, "2026-Q3")
        assert (await api.statement(adjustment["id"]))["status"] == "void"

    async def test_statements_keep_their_program_version(
        self, api: Api, feed: Feed, program_body: Any
    ) -> None:
        first, second = await feed.partner(), await feed.partner()
        for partner in (first, second):
            await feed.sales(partner["id"], {"2026-07": "10000"})
        pid = (await api.create_program())["id"]
        run = await api.run(pid, "2026-Q3")
        approve = next(s for s in run["statements"] if s["partner_id"] == first["id"])
        await api.request("POST", f"/rebate-statements/{approve['id']}/approve")
        await api.request(
            "PUT", f"/rebate-programs/{pid}", json=program_body(tiers=[{"from": 0, "rate": "0.02"}])
        )
        rerun = await api.run(pid, "2026-Q3")
        versions = {
            s["partner_id"]: (s["kind"], s["program_version"], s["amount"])
            for s in rerun["statements"]
        }
        assert versions == {
            first["id"]: ("adjustment", 2, "100.00"),
            second["id"]: ("original", 2, "200.00"),
        }
        assert (await api.statement(approve["id"]))["program_version"] == 1


class TestStatementLifecycle:
    async def _statement(self, api: Api, feed: Feed) -> dict[str, Any]:
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "60000"})
        pid = (await api.create_program())["id"]
        (statement,) = (await api.run(pid, "2026-Q3"))["statements"]
        return statement

    async def test_approve_records_who_and_when_and_is_announced(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        statement = await self._statement(api, feed)
        key = {"Idempotency-Key": "approve-1"}
        approver = api.as_principal(("rebates:read", "rebates:approve"), subject="cfo-bob")
        url = f"/rebate-statements/{statement['id']}/approve"
        first = await approver.request("POST", url, headers=key)
        replay = await approver.request("POST", url, headers=key)
        assert first.status_code == replay.status_code == 200
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        body = first.json()
        assert (body["status"], body["approved_by"]) == ("approved", "cfo-bob")
        assert body["approved_at"].endswith("Z") or body["approved_at"].endswith("+00:00")
        api.problem(await approver.request("POST", url), 409)
        (event,) = await outbox(sessions, "rebate.statement.approved.v1")
        assert (event["id"], event["status"], event["amount"]) == (
            statement["id"],
            "approved",
            "1800.00",
        )
        created = await outbox(sessions, "rebate.statement.created.v1")
        assert [e["id"] for e in created] == [statement["id"]]
        # the bulk-written event matches its published model exactly
        assert StatementEvent.model_validate(created[0]).model_dump(mode="json") == created[0]

    async def test_approval_needs_the_approve_scope(self, api: Api, feed: Feed) -> None:
        statement = await self._statement(api, feed)
        writer = api.as_principal(("rebates:read", "rebates:write"))
        api.problem(
            await writer.request("POST", f"/rebate-statements/{statement['id']}/approve"), 403
        )

    async def test_mark_paid_after_approval_only(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        statement = await self._statement(api, feed)
        url = f"/rebate-statements/{statement['id']}"
        early = await api.request("POST", f"{url}/mark-paid", json={"payment_ref": "PAY-1"})
        api.problem(early, 409)
        await api.request("POST", f"{url}/approve")
        paid = await api.request("POST", f"{url}/mark-paid", json={"payment_ref": "PAY-1"})
        assert paid.status_code == 200, paid.text
        assert (paid.json()["status"], paid.json()["payment_ref"]) == ("paid", "PAY-1")
        (event,) = await outbox(sessions, "rebate.statement.paid.v1")
        assert event["payment_ref"] == "PAY-1"

    async def test_void_only_drafts(self, api: Api, feed: Feed) -> None:
        statement = await self._statement(api, feed)
        url = f"/rebate-statements/{statement['id']}"
        voided = await api.request("POST", f"{url}/void")
        assert voided.json()["status"] == "void"
        api.problem(await api.request("POST", f"{url}/approve"), 409)
        api.problem(await api.request("POST", f"{url}/void"), 409)

    async def test_lists_filter_by_status_and_period(self, api: Api, feed: Feed) -> None:
        statement = await self._statement(api, feed)
        assert [s["id"] for s in await api.statements(status="draft", period="2026-Q3")] == [
            statement["id"]
        ]
        assert await api.statements(status="approved") == []
        assert await api.statements(period="2026-Q2") == []
