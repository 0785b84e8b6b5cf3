"""S1: the authorization matrix — every operation of every service as admin, partner A,
partner B, a read-only principal and a principal without the scope: a missing scope is 403,
read-only never writes, and a partner-bound principal never reads or writes another partner's
rows (404), nor sees them in any answer."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from battery_support import report
from channel_common import SCOPES, ReceivedEvent
from channel_common.testing import bearer
from inprocess.conftest import Started
from inprocess.operations import Operation, operations
from inprocess.suite import program_body

READ_SCOPES = [s for s in SCOPES if s.endswith(":read")]
PARTNER_SCOPES = [s for s in SCOPES if s != "admin"]
Seeder = Callable[[Any, httpx.AsyncClient, dict[str, str]], Awaitable[tuple[str, str]]]


def received(subject: str, data: Any) -> ReceivedEvent:
    return ReceivedEvent(str(uuid.uuid4()), subject, "urn:battery", None, None, data, subject)


def snapshot(pid: str, code: str) -> dict[str, Any]:
    return {"id": pid, "code": code, "name": code, "tier": "gold", "type": "distributor",
            "region": "CN-GD", "status": "active", "territories": [], "version": 1}  # fmt: skip


async def _feed(svc: Any, handler: Any, subject: str, data: Any) -> None:
    async with svc.app.state.sessions() as session:
        await handler(session, received(subject, data))
        await session.commit()


async def seed_partner(
    svc: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> tuple[str, str]:
    ids = []
    for code in ("S1-A", "S1-B"):
        body = {"code": code, "name": code, "type": "distributor", "region": "CN-GD"}
        created = await client.post("/api/v1/partners", json=body, headers=admin)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids[0], ids[1]


async def seed_kpi(svc: Any, client: httpx.AsyncClient, admin: dict[str, str]) -> tuple[str, str]:
    from kpi_svc.consumers import apply_partner_event

    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for pid, code in ((a, "S1-A"), (b, "S1-B")):
        await _feed(svc, apply_partner_event, "partner.registered.v1", snapshot(pid, code))
    items = [{"partner_id": p, "kpi": "sales_amount", "value": "10", "occurred_on": "2026-10-15"}
             for p in (a, b)]  # fmt: skip
    answer = await client.post("/api/v1/observations", json={"observations": items}, headers=admin)
    assert answer.status_code == 200 and answer.json()["accepted"] == 2, answer.text
    return a, b


async def seed_rebate(
    svc: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> tuple[str, str]:
    from rebate_svc.consumers import aggregates_handler, partner_handler

    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for pid, code in ((a, "S1-A"), (b, "S1-B")):
        await _feed(
            svc, partner_handler(svc.settings), "partner.registered.v1", snapshot(pid, code)
        )
    updates = [{"partner_id": p, "kpi": "sales_amount", "granularity": "month", "period": "2026-02",
                "value": "60000", "count": 1, "version": 1} for p in (a, b)]  # fmt: skip
    await _feed(
        svc, aggregates_handler(svc.settings), "kpi.aggregates.updated.v1", {"updates": updates}
    )
    program = await client.post("/api/v1/rebate-programs", json=program_body(), headers=admin)
    assert program.status_code == 201, program.text
    body = {"program_id": program.json()["id"], "period": "2026-Q1"}
    run = await client.post("/api/v1/rebate-runs", headers=admin, json=body)
    assert run.status_code == 202, run.text
    return a, b


async def seed_alert(svc: Any, client: httpx.AsyncClient, admin: dict[str, str]) -> tuple[str, str]:
    from alert_svc.consumers import AGGREGATES_UPDATED, apply_aggregates_event, apply_partner_event

    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for pid, code in ((a, "S1-A"), (b, "S1-B")):
        await _feed(svc, apply_partner_event, "partner.registered.v1", snapshot(pid, code))
    rule = {"name": "low", "kpi": "sales_amount",
            "condition": {"type": "threshold", "op": "lt", "value": "1000"}}  # fmt: skip
    assert (await client.post("/api/v1/alert-rules", json=rule, headers=admin)).status_code == 201
    updates = [{"partner_id": p, "kpi": "sales_amount", "granularity": "month", "period": "2026-10",
                "value": "10", "count": 1, "version": 1} for p in (a, b)]  # fmt: skip
    await _feed(svc, apply_aggregates_event, AGGREGATES_UPDATED, {"updates": updates})
    alerts = await client.get("/api/v1/alerts", headers=admin)
    assert len(alerts.json()["items"]) == 2, alerts.text
    return a, b


SEEDERS: dict[str, Seeder] = {
    "partner": seed_partner, "kpi": seed_kpi, "rebate": seed_rebate, "alert": seed_alert,
}  # fmt: skip
# Path parameters that name a partner's own rows, and the admin list that holds them.
OWNED = {
    "partner_id": ("/api/v1/partners", "id"),
    "statement_id": ("/api/v1/rebate-statements", "id"),
    "alert_id": ("/api/v1/alerts", "id"),
}


# Valid bodies, so that a refusal is about whose row it is, not about the body.
VALID_BODIES: dict[str, Any] = {
    "POST /api/v1/partners/{partner_id}/transitions": {"to": "onboarding", "reason": "s1"},
    "POST /api/v1/partners/{partner_id}/tier": {"tier": "silver", "reason": "s1"},
    "PUT /api/v1/partners/{partner_id}/territories": [{"region": "CN-GD", "exclusive": False}],
    "PATCH /api/v1/partners/{partner_id}": {"name": "taken over"},
    "POST /api/v1/rebate-statements/{statement_id}/mark-paid": {"payment_ref": "PAY-S1"},
    "POST /api/v1/alerts/{alert_id}/ack": {"note": "not mine"},
}


async def _call(client: httpx.AsyncClient, op: Operation, headers: dict[str, str],
                **values: str) -> httpx.Response:  # fmt: skip
    body = op.body()
    if op.label in VALID_BODIES:
        body = {"json": VALID_BODIES[op.label]}
    return await client.request(op.method, op.url(**values),
                                headers={**body.pop("headers", {}), **headers}, **body)  # fmt: skip


async def test_the_authorization_matrix_holds_on_every_operation(started: Started) -> None:
    checks: Counter[str] = Counter()
    wrong: list[str] = []
    for name, seed in SEEDERS.items():
        async with started(name) as (svc, client):
            admin = bearer(svc.settings, ["admin"], subject="s1-admin")
            a, b = await seed(svc, client, admin)
            principal_a = bearer(svc.settings, PARTNER_SCOPES, partner_id=a, subject="portal-a")
            read_only = bearer(svc.settings, READ_SCOPES, subject="s1-reader")
            no_scope = bearer(svc.settings, [], subject="s1-nobody")
            ops = [op for op in operations(svc.app) if op.protected]
            owned_by_b: dict[str, str] = {}
            for param, (url, field) in OWNED.items():
                listed = await client.get(url, headers=admin, params={"limit": 500})
                if listed.status_code == 200:
                    rows = listed.json()["items"]
                    mine = [r[field] for r in rows if r.get("partner_id", r.get("id")) == b]
                    if mine:
                        owned_by_b[param] = mine[0]
            for op in ops:
                needs_write = not op.scopes <= set(READ_SCOPES)
                r = await _call(client, op, no_scope)
                checks["missing_scope"] += 1
                if r.status_code != 403:
                    wrong.append(f"{op.label} without scope → {r.status_code}")
                r = await _call(client, op, read_only)
                checks["read_only"] += 1
                if needs_write != (r.status_code == 403):
                    wrong.append(f"{op.label} read-only → {r.status_code} (write: {needs_write})")
                params = set(op.path.replace("}", "{").split("{")[1::2])
                targets = params & set(owned_by_b)
                if op.method == "GET" and not params:
                    listed = await client.get(op.url(), headers=principal_a, params={"limit": 500})
                    checks["partner_lists"] += 1
                    if b in listed.text:
                        wrong.append(
                            f"{op.label} as partner A shows partner B: {listed.text[:200]}"
                        )
                    if "partner_id" in {
                        p["name"]
                        for p in svc.app.openapi()["paths"][op.path]["get"].get("parameters", [])
                    }:
                        other = await client.get(
                            op.url(), headers=principal_a, params={"partner_id": b}
                        )
                        checks["partner_filter"] += 1
                        if other.status_code != 404:
                            wrong.append(f"{op.label}?partner_id=B as A → {other.status_code}")
                if targets and params <= set(owned_by_b) | {"partner_id"}:
                    values = {p: owned_by_b[p] for p in targets}
                    before = (
                        await client.get(op.url(**values), headers=admin)
                        if op.method != "GET"
                        else None
                    )
                    r = await _call(client, op, principal_a, **values)
                    checks["cross_partner"] += 1
                    if r.status_code not in (403, 404) or b in r.text:
                        wrong.append(f"{op.label} on B's row as A → {r.status_code}")
                    if before is not None and before.status_code == 200:
                        after = await client.get(op.url(**values), headers=admin)
                        if after.text != before.text:
                            wrong.append(f"{op.label} as A changed B's row")
            r = await client.get(ops[0].url(), headers=admin)
            assert r.status_code not in (401, 403), r.text
    figures = report("S1", **checks, violations=len(wrong))
    assert not wrong, "\n".join(wrong)
    assert figures["cross_partner"] >= 10 and figures["missing_scope"] >= 57
