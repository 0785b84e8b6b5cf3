"""The channel story end to end: the suite as separate processes (real NATS, HTTP through the
gateway, SQLite or PostgreSQL), every figure checked against e2e_figures' hand computations.

The steps run in order on one suite and hand their findings on through `story`."""

from __future__ import annotations

import base64
import secrets
from datetime import date
from decimal import Decimal

import e2e_figures as fig
from channel_common.testing import publish_event
from e2e_story import (
    Story,
    accruals_by_code,
    alerts_of_rule,
    dec,
    get_alert,
    ok,
    one_receipt,
    owed_by_code,
    poll,
    summary_of,
    transition,
)

YEAR = fig.YEAR
Q4 = f"{YEAR}-Q4"
RULE_NAME = "Satisfaction below 65 in a month"


class TestPartners:
    async def test_register_activate_and_set_territories(self, story: Story) -> None:
        async with story.suite.client() as client:
            for code, spec in fig.PARTNERS.items():
                body = {k: spec[k] for k in ("name", "type", "tier", "region", "qualification")}
                created = ok(
                    await client.post("/api/v1/partners", json={"code": code, **body}), 201
                )
                assert (created["status"], created["tier"]) == ("prospect", spec["tier"])
                story.ids[code], story.codes[created["id"]] = created["id"], code
                moved = await transition(client, created["id"], "onboarding")
                assert ok(moved)["status"] == "onboarding"

            for code, spec in fig.PARTNERS.items():
                activated = await transition(client, story.ids[code], "active")
                if spec["activate"]:
                    assert ok(activated)["status"] == "active"
                    continue
                # WEST is below silver's 2,000,000.00 / 2 years / 5 staff on every criterion.
                assert activated.status_code == 409, activated.text
                checks = {c["criterion"]: c for c in activated.json()["checks"]}
                assert [(k, c["passed"]) for k, c in checks.items()] == [
                    ("registered_capital", False), ("years_in_business", False),
                    ("service_staff", False),
                ]  # fmt: skip
                assert dec(checks["registered_capital"]["actual"]) == 500_000
                assert dec(checks["registered_capital"]["required"]) == 2_000_000

            for code, spec in fig.PARTNERS.items():
                if spec["territories"]:
                    replaced = await client.put(
                        f"/api/v1/partners/{story.ids[code]}/territories",
                        json={"territories": spec["territories"], "reason": "contract 2025"},
                    )
                    assert ok(replaced)["territories"] == spec["territories"]

            # SOUTH may not hold CN-GD-SZ exclusively: it lies in NORTH's exclusive CN-GD.
            conflict = await client.put(
                f"/api/v1/partners/{story.ids['E2E-SOUTH']}/territories",
                json={"territories": [{"region": "CN-GD-SZ", "exclusive": True}]},
            )
            assert conflict.status_code == 409, conflict.text
            assert [c["holder"]["code"] for c in conflict.json()["conflicts"]] == ["E2E-NORTH"]
            owner = ok(await client.get("/api/v1/territories/owner?region=CN-GD-SZ"))
            assert (owner["partner_code"], owner["held_region"]) == ("E2E-NORTH", "CN-GD")

            listed = ok(await client.get("/api/v1/partners?q=E2E-"))["items"]
            assert {p["code"]: p["status"] for p in listed} == {
                code: "active" if spec["activate"] else "onboarding"
                for code, spec in fig.PARTNERS.items()
            }
            # NORTH's ledger: registered, onboarding, active, territories → 4 chained entries.
            verified = ok(
                await client.get(f"/api/v1/partners/{story.ids['E2E-NORTH']}/history/verify")
            )
            assert verified == {"valid": True, "entries": 4, "broken_at": None}
        story.done.append("partners")


class TestSetup:
    async def test_webhook_alert_rule_and_rebate_program(self, story: Story) -> None:
        story.require("partners")
        story.webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        async with story.suite.client() as client:
            hook = ok(
                await client.post(
                    "/api/v1/webhooks",
                    json={
                        "url": story.receiver.url,
                        "secret": story.webhook_secret,
                        "events": ["alert.fired", "alert.acknowledged", "alert.resolved"],
                        "min_severity": "warning",
                    },
                ),
                201,
            )
            assert hook["secret"] == story.webhook_secret
            story.webhook_id = hook["id"]
            rule = ok(
                await client.post(
                    "/api/v1/alert-rules",
                    json={
                        "name": RULE_NAME,
                        "kpi": "customer_satisfaction",
                        "granularity": "month",
                        "condition": {
                            "type": "threshold",
                            "op": "lt",
                            "value": str(fig.ALERT_BELOW),
                        },
                        "for_periods": 1,
                        "severity": "critical",
                        "labels": {"team": "channel-ops"},
                    },
                ),
                201,
            )
            story.rule_id = rule["id"]
            # The year's rebate program is in place before the figures come in.
            program = ok(await client.post("/api/v1/rebate-programs", json=fig.PROGRAM), 201)
            story.program_id = program["id"]
            assert (program["version"], program["status"]) == (1, "active")
        story.done.append("setup")


class TestKpiIngestion:
    async def test_a_year_by_rest_csv_and_nats(self, story: Story) -> None:
        story.require("partners")
        async with story.suite.client() as client:
            # kpi-svc learns the partners from partner-svc's events: wait until it knows them.
            for partner_id in story.ids.values():
                await poll(
                    lambda pid=partner_id: client.get(f"/api/v1/scorecards/{pid}?period={Q4}"),  # type: ignore[misc]
                    lambda r: r.status_code == 200,
                    "kpi-svc knows the partner",
                )

            # January-April as a JSON batch, with one item of a KPI that does not exist.
            rest = fig.observations_for_months(story.ids, range(1, 5), "e2e-rest")
            bad = fig.observation(
                story.ids["E2E-EAST"], "E2E-EAST", "footfall", 1, date(YEAR, 1, 15), "e2e-rest"
            )
            result = ok(
                await client.post("/api/v1/observations", json={"observations": [*rest, bad]})
            )
            # 4 partners * 4 months * 2 KPIs = 32 accepted; the 33rd item (index 32) rejected.
            assert (result["accepted"], result["duplicates"]) == (32, 0)
            assert [(r["index"], r["code"]) for r in result["rejected"]] == [(32, "unknown_kpi")]
            again = ok(await client.post("/api/v1/observations", json={"observations": rest}))
            assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 32, [])

            # May-August as a CSV file, with one satisfaction of 120 (the range is 0..100).
            csv_items = fig.observations_for_months(story.ids, range(5, 9), "e2e-csv")
            too_high = f",{story.ids['E2E-WEST']},customer_satisfaction,120,{YEAR}-05-20,e2e-csv"
            imported = ok(
                await client.post(
                    "/api/v1/observations:import",
                    content=fig.csv_text(csv_items, too_high),
                    headers={"content-type": "text/csv"},
                )
            )
            # Line 1 is the header, lines 2..33 the 32 good rows, line 34 the bad one.
            assert imported["accepted"] == 32
            assert [(r["index"], r["code"]) for r in imported["rejected"]] == [(34, "out_of_range")]

            # September-December as one kpi.ingest.v1 message on NATS.
            nats_items = fig.observations_for_months(story.ids, range(9, 13), "e2e-nats")
            await publish_event(
                story.suite.nats.url,  # type: ignore[union-attr]
                event_type="kpi.ingest.v1",
                data={"observations": nats_items},
                source="e2e-erp",
            )

            year = await poll(
                lambda: summary_of(client, story, "sales_amount", f"{YEAR}"),
                lambda rows: {code: dec(r["value"]) for code, r in rows.items()} == fig.YEAR_SALES,
                "2025 sales by partner",
            )
            assert {code: r["count"] for code, r in year.items()} == dict.fromkeys(year, 12)
            quarter = ok(await client.get(f"/api/v1/kpis/sales_amount/summary?period={Q4}"))
            assert quarter["previous_period"] == f"{YEAR}-Q3"
            assert {
                story.codes[r["group"]]: (
                    dec(r["value"]),
                    dec(r["previous_value"]),
                    dec(r["change_pct"]),
                )
                for r in quarter["items"]
            } == fig.Q4_SALES_SUMMARY
            assert all(
                r["year_ago_value"] is None and r["yoy_pct"] is None for r in quarter["items"]
            )
            by_nats = ok(await client.get("/api/v1/observations?source=e2e-nats&limit=500"))
            assert len(by_nats["items"]) == 32
        story.done.append("kpis")


class TestAlertFires:
    async def test_december_below_threshold_fires_and_is_delivered_signed(
        self, story: Story
    ) -> None:
        story.require("setup", "kpis")
        south = story.ids["E2E-SOUTH"]
        async with story.suite.client() as client:
            firing = await poll(
                lambda: alerts_of_rule(client, story.rule_id),
                lambda items: len(items) >= 1,
                "an alert of the satisfaction rule",
            )
            # Only SOUTH's December (60 < 65) breaches: EAST's 70 and the rest do not.
            assert [(a["partner_id"], a["state"]) for a in firing] == [(south, "firing")]
            alert = firing[0]
            story.alert_id = alert["id"]
            assert (alert["kpi"], alert["period"], alert["severity"]) == (
                "customer_satisfaction", f"{YEAR}-12", "critical",
            )  # fmt: skip
            assert dec(alert["value"]) == 60
            labels = alert["labels"]
            assert (labels["partner_code"], labels["tier"], labels["region"]) == (
                "E2E-SOUTH", "registered", "CN-GD-SZ",
            )  # fmt: skip
            assert (labels["team"], labels["rule"]) == ("channel-ops", RULE_NAME)

            fired = await one_receipt(story, "alert.fired")
            assert fired["data"]["id"] == story.alert_id
            assert fired["data"]["state"] == "firing"

            acked = ok(
                await client.post(
                    f"/api/v1/alerts/{story.alert_id}/ack", json={"note": "calling South"}
                )
            )
            assert acked["state"] == "acknowledged"
            assert acked["acknowledged_at"] is not None
            assert (await one_receipt(story, "alert.acknowledged"))["data"]["id"] == story.alert_id
        story.done.append("alert fired")


class TestQuarterStatements:
    async def test_accruals_run_and_approval(self, story: Story) -> None:
        story.require("setup", "kpis")
        async with story.suite.client() as client:
            # rebate-svc's projection of the KPI aggregates: live accruals of the open 2025-Q4.
            # On 2025-12-31 all 92 days of Q4 have elapsed: projected = basis * 92 / 92.
            expected = {
                code: (basis, tier, accrued, after, distance, basis, accrued, Q4)
                for code, (basis, tier, accrued, after, distance) in fig.EXPECTED_ACCRUALS.items()
            }
            accruals = await poll(
                lambda: accruals_by_code(client, story),
                lambda rows: rows == expected,
                "Q4 accruals",
            )
            assert "E2E-WEST" not in accruals  # onboarding: not eligible

            # What-if: SOUTH's 30,000 → 50,000 reaches 3 %: 50,000 * 0.03 = 1,500.00.
            what_if = ok(
                await client.post(
                    f"/api/v1/rebate-programs/{story.program_id}/simulate",
                    json={"basis_value": "30000"},
                )
            )
            assert dec(what_if["amount"]) == Decimal("300.00")
            assert dec(what_if["next_tier"]["amount_at_next"]) == Decimal("1500.00")

            run = ok(
                await client.post(
                    "/api/v1/rebate-runs", json={"program_id": story.program_id, "period": Q4}
                ),
                202,
            )
            assert run["status"] == "completed"
            viewed = ok(await client.get(f"/api/v1/rebate-runs/{run['id']}"))
            assert dec(viewed["total_amount"]) == fig.FIRST_RUN_TOTAL
            assert viewed["total_amount"] == "6300.00"
            by_code = {story.codes[s["partner_id"]]: s for s in viewed["statements"]}
            assert sorted(by_code) == sorted(fig.EXPECTED_Q4_STATEMENTS)

            for code, hand in fig.EXPECTED_Q4_STATEMENTS.items():
                basis, tier, rate, gross, amount, reason, mean, passed = hand
                statement = ok(await client.get(f"/api/v1/rebate-statements/{by_code[code]['id']}"))
                story.statements[code] = statement["id"]
                assert (statement["kind"], statement["status"], statement["period"]) == (
                    "original", "draft", Q4,
                )  # fmt: skip
                assert (dec(statement["basis_value"]), statement["tier_index"]) == (basis, tier)
                # Retroactive: one line, the reached tier's rate on the whole basis.
                assert [(dec(line["rate"]), dec(line["base"])) for line in statement["lines"]] == [
                    (rate, basis)
                ]
                assert (dec(statement["gross_amount"]), dec(statement["amount"])) == (gross, amount)
                assert statement["reason"] == reason
                [qualifier] = statement["qualifier_results"]
                assert (dec(qualifier["actual"]), qualifier["passed"]) == (mean, passed)

            for code, statement_id in story.statements.items():
                approved = ok(
                    await client.post(f"/api/v1/rebate-statements/{statement_id}/approve")
                )
                assert approved["status"] == "approved", code
        story.done.append("statements")


class TestLateData:
    async def test_adjustment_resolution_and_payment(self, story: Story) -> None:
        story.require("statements", "alert fired")
        on = date(YEAR, 12, 28)
        late = [
            fig.observation(story.ids[code], code, kpi, value, on, "e2e-late")
            for code, kpi, value in fig.LATE_ITEMS
        ]
        async with story.suite.client() as client:
            result = ok(await client.post("/api/v1/observations", json={"observations": late}))
            assert (result["accepted"], result["rejected"]) == (2, [])
            december = await summary_of(client, story, "customer_satisfaction", f"{YEAR}-12")
            south = december["E2E-SOUTH"]
            assert (dec(south["value"]), south["count"]) == (fig.SOUTH_DECEMBER_AFTER, 2)

            # NORTH's accrual follows the late invoice: 180,000 * 0.04 = 7,200.00.
            north_after = (fig.ADJUSTED_NORTH_BASIS, 2, Decimal("7200.00"), None, None,
                           fig.ADJUSTED_NORTH_BASIS, Decimal("7200.00"), Q4)  # fmt: skip
            await poll(
                lambda: accruals_by_code(client, story),
                lambda rows: rows.get("E2E-NORTH") == north_after,
                "NORTH's late invoice in its accrual",
            )
            run = ok(
                await client.post(
                    "/api/v1/rebate-runs", json={"program_id": story.program_id, "period": Q4}
                ),
                202,
            )
            viewed = ok(await client.get(f"/api/v1/rebate-runs/{run['id']}"))
            # Only NORTH changed: an adjustment of 7,200.00 - 6,000.00 = 1,200.00.
            [adjustment] = viewed["statements"]
            assert dec(viewed["total_amount"]) == fig.NORTH_ADJUSTMENT
            assert (story.codes[adjustment["partner_id"]], adjustment["kind"]) == (
                "E2E-NORTH", "adjustment",
            )  # fmt: skip
            detail = ok(await client.get(f"/api/v1/rebate-statements/{adjustment['id']}"))
            assert (detail["status"], dec(detail["amount"])) == ("draft", fig.NORTH_ADJUSTMENT)
            assert dec(detail["basis_value"]) == fig.ADJUSTED_NORTH_BASIS
            assert dec(detail["gross_amount"]) == Decimal("7200.00")

            # Approved statements never change.
            for code, statement_id in story.statements.items():
                original = ok(await client.get(f"/api/v1/rebate-statements/{statement_id}"))
                assert original["status"] == "approved"
                assert dec(original["amount"]) == fig.EXPECTED_Q4_STATEMENTS[code][4]
            assert await owed_by_code(client, story, Q4) == fig.OWED_AFTER_ADJUSTMENT

            # SOUTH's December is now (60 + 90) / 2 = 75, not below 65: the alert resolves.
            alert = await poll(
                lambda: get_alert(client, story.alert_id),
                lambda a: a["state"] == "resolved",
                "the alert resolved",
            )
            assert alert["resolved_at"] is not None
            resolved = await one_receipt(story, "alert.resolved")
            assert (resolved["data"]["id"], resolved["data"]["state"]) == (
                story.alert_id, "resolved",
            )  # fmt: skip
            deliveries = ok(await client.get(f"/api/v1/webhooks/{story.webhook_id}/deliveries"))
            assert sorted((d["event_type"], d["state"]) for d in deliveries["items"]) == [
                ("alert.acknowledged", "delivered"),
                ("alert.fired", "delivered"),
                ("alert.resolved", "delivered"),
            ]
            assert all(d["attempts"][-1]["status_code"] == 204 for d in deliveries["items"])

            # Close the books: approve the adjustment, pay NORTH's original.
            approved = ok(
                await client.post(f"/api/v1/rebate-statements/{adjustment['id']}/approve")
            )
            assert approved["status"] == "approved"
            paid = ok(
                await client.post(
                    f"/api/v1/rebate-statements/{story.statements['E2E-NORTH']}/mark-paid",
                    json={"payment_ref": "PAY-2026-001"},
                )
            )
            assert (paid["status"], paid["payment_ref"]) == ("paid", "PAY-2026-001")
        story.done.append("late data")
