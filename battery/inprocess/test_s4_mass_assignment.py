"""S4: every write model refuses extra fields (`id`, `status`, `partner_id`, `amount`, unknown),
at the top level and inside nested objects: 422 naming the field, and nothing changes."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from battery_support import report
from channel_common.testing import assert_problem, bearer
from inprocess.conftest import Started
from inprocess.operations import operations
from inprocess.suite import SERVICES, program_body

EXTRA_FIELDS = {
    "id": str(uuid.uuid4()),
    "status": "active",
    "partner_id": str(uuid.uuid4()),
    "amount": "1000000.00",
    "is_admin": True,
}
ADMIN_KEY = "csk_battery-bootstrap-admin-key-0123456789"
Headers = dict[str, str]
# A write case: method, path, a valid body, and where the extras go (a path of keys/indexes).
Case = tuple[str, str, Any, tuple[Any, ...]]
Setup = Callable[[httpx.AsyncClient, Headers], Awaitable[list[Case]]]


async def _created(client: httpx.AsyncClient, headers: Headers, url: str, body: Any) -> Any:
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def partner_cases(client: httpx.AsyncClient, headers: Headers) -> list[Case]:
    new = {"code": "S4-NEW", "name": "Acme", "type": "distributor", "region": "CN-GD"}
    pid = (await _created(client, headers, "/api/v1/partners", {**new, "code": "S4-A"}))["id"]
    ladder = (await client.get("/api/v1/tiers", headers=headers)).json()
    ladder = ladder["items"] if isinstance(ladder, dict) else ladder
    ladder = [{k: t[k] for k in ("key", "name", "rank", "admission")} for t in ladder]
    p = f"/api/v1/partners/{pid}"
    contact = {"name": "Li", "email": "li@example.com"}
    return [
        ("POST", "/api/v1/partners", new, ()),
        ("POST", "/api/v1/partners", {**new, "contact": contact}, ("contact",)),
        ("PATCH", p, {"name": "Renamed"}, ()),
        ("PATCH", p, {"contact": contact}, ("contact",)),
        ("PATCH", p, {"qualification": {"service_staff": 3}}, ("qualification",)),
        ("POST", f"{p}/transitions", {"to": "onboarding", "reason": "s4"}, ()),
        ("POST", f"{p}/tier", {"tier": "silver", "reason": "s4"}, ()),
        ("PUT", f"{p}/territories", [{"region": "CN-GD", "exclusive": False}], (0,)),
        ("PUT", "/api/v1/tiers", ladder, (0,)),
        ("PUT", "/api/v1/tiers", ladder, (0, "admission")),
    ]


async def kpi_cases(client: httpx.AsyncClient, headers: Headers) -> list[Case]:
    definition = {"key": "s4_kpi", "name": "S4", "unit": "count", "aggregation": "sum"}
    observation = {
        "partner_id": str(uuid.uuid4()),
        "kpi": "sales_amount",
        "value": "10",
        "occurred_on": "2026-10-15",
    }
    target = {"kpi": "sales_amount", "period": "2026-10", "scope": {}, "value": "100"}
    return [
        ("POST", "/api/v1/kpi-definitions", definition, ()),
        ("PATCH", "/api/v1/kpi-definitions/sales_amount", {"name": "Sales"}, ()),
        ("POST", "/api/v1/observations", {"observations": [observation]}, ()),
        ("POST", "/api/v1/observations", {"observations": [observation]}, ("observations", 0)),
        ("PUT", "/api/v1/targets", [target], (0,)),
        ("PUT", "/api/v1/targets", [target], (0, "scope")),
    ]


async def rebate_cases(client: httpx.AsyncClient, headers: Headers) -> list[Case]:
    program = await _created(client, headers, "/api/v1/rebate-programs", program_body())
    p = f"/api/v1/rebate-programs/{program['id']}"
    statement = f"/api/v1/rebate-statements/{uuid.uuid4()}"
    return [
        ("POST", "/api/v1/rebate-programs", program_body(), ()),
        ("POST", "/api/v1/rebate-programs", program_body(), ("basis",)),
        ("POST", "/api/v1/rebate-programs", program_body(), ("tiers", 0)),
        ("PUT", p, program_body(), ()),
        ("PUT", p, program_body(), ("tiers", 1)),
        ("POST", f"{p}/simulate", {"basis_value": "60000"}, ()),
        ("POST", "/api/v1/rebate-runs", {"program_id": program["id"], "period": "2026-Q1"}, ()),
        ("POST", f"{statement}/mark-paid", {"payment_ref": "PAY-1"}, ()),
    ]


async def alert_cases(client: httpx.AsyncClient, headers: Headers) -> list[Case]:
    rule = {
        "name": "low sales",
        "kpi": "sales_amount",
        "condition": {"type": "threshold", "op": "lt", "value": "1000"},
        "scope": {"regions": ["CN"]},
    }
    created = await _created(client, headers, "/api/v1/alert-rules", rule)
    silence = {
        "matchers": {"kpi": "sales_amount"},
        "ends_at": "2030-01-01T00:00:00Z",
        "created_by": "ops",
        "comment": "s4",
    }
    webhook = {"url": "https://93.184.215.14/alerts"}  # public; no DNS needed
    r = f"/api/v1/alert-rules/{created['id']}"
    return [
        ("POST", "/api/v1/alert-rules", rule, ()),
        ("POST", "/api/v1/alert-rules", rule, ("condition",)),
        ("POST", "/api/v1/alert-rules", rule, ("scope",)),
        ("PATCH", r, {"name": "renamed"}, ()),
        ("PATCH", r, {"condition": rule["condition"]}, ("condition",)),
        ("POST", f"/api/v1/alerts/{uuid.uuid4()}/ack", {"note": "seen"}, ()),
        ("POST", "/api/v1/silences", silence, ()),
        ("POST", "/api/v1/webhooks", webhook, ()),
    ]


async def gateway_cases(client: httpx.AsyncClient, headers: Headers) -> list[Case]:
    return [("POST", "/api/v1/api-keys", {"name": "s4", "scopes": ["partners:read"]}, ())]


SETUPS: dict[str, Setup] = {
    "partner": partner_cases,
    "kpi": kpi_cases,
    "rebate": rebate_cases,
    "alert": alert_cases,
    "gateway": gateway_cases,
}


def _documented(
    document: dict[str, Any], method: str, url: str, where: tuple[Any, ...]
) -> set[str]:
    """The properties the operation's request schema documents at `where` (not extras)."""
    schemas = document["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            elif "anyOf" in schema:
                schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
            else:
                return schema

    path = next(p for p in document["paths"] if _matches(p, url))
    body = document["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    schema = resolve(body["schema"])
    for step in where:
        schema = resolve(schema["items"] if isinstance(step, int) else schema["properties"][step])
    return set(schema.get("properties", {}))


def _with_extra(body: Any, where: tuple[Any, ...], field: str, value: Any) -> Any:
    changed = copy.deepcopy(body)
    target = changed
    for step in where:
        target = target[step]
    target[field] = value
    return changed


async def _snapshot(client: httpx.AsyncClient, headers: Headers, lists: list[str]) -> list[Any]:
    """Every list the service serves, as the admin sees it."""
    pages = []
    for url in lists:
        response = await client.get(url, headers=headers, params={"limit": 500})
        pages.append((url, response.status_code, response.json()))
    return pages


async def test_every_write_model_refuses_extra_fields(started: Started) -> None:
    sent = refused = changed = covered = skipped = 0
    wrong: list[str] = []
    for name in SERVICES:
        overrides = {"bootstrap_admin_key": ADMIN_KEY} if name == "gateway" else {}
        async with started(name, **overrides) as (svc, client):
            headers = bearer(svc.settings, ["admin"], subject="battery-admin")
            if name == "gateway":
                headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            ops = operations(svc.app)
            json_writes = {
                (op.method, op.path) for op in ops if op.media_type == "application/json"
            }
            cases = await SETUPS[name](client, headers)
            lists = [op.path for op in ops if op.method == "GET" and op.path.startswith("/api")]
            lists = [path for path in lists if "{" not in path]
            before = await _snapshot(client, headers, lists)
            document = svc.app.openapi()
            for method, url, body, where in cases:
                documented = _documented(document, method, url, where)
                skipped += len(documented & set(EXTRA_FIELDS))
                for field, value in EXTRA_FIELDS.items():
                    if field in documented:
                        continue
                    response = await client.request(
                        method, url, json=_with_extra(body, where, field, value), headers=headers
                    )
                    sent += 1
                    if response.status_code != 422:
                        wrong.append(f"{method} {url} +{where}.{field} → {response.status_code}")
                        continue
                    problem = assert_problem(response, 422)
                    locs = [error["loc"] for error in problem.get("errors", [])]
                    if not any(loc and loc[-1] == field for loc in locs):
                        wrong.append(f"{method} {url} +{where}.{field}: errors {locs}")
                    refused += 1
            after = await _snapshot(client, headers, lists)
            changed += sum(a != b for a, b in zip(before, after, strict=True))
            # Without the extras every body passes validation: the 422s were for the extras.
            for method, url, body, _where in cases:
                response = await client.request(method, url, json=body, headers=headers)
                if response.status_code == 422:
                    wrong.append(f"{method} {url} valid body → 422 {response.text}")
            templates = {(m, path) for m, path in json_writes}
            used = {
                (op.method, op.path)
                for op in ops
                if any(c[0] == op.method and _matches(op.path, c[1]) for c in cases)
            }
            covered += len(used & templates)
            missing = templates - used
            assert not missing, f"write operations without an S4 case: {sorted(missing)}"
    figures = report(
        "S4",
        requests=sent,
        refused_422=refused,
        write_operations=covered,
        lists_changed=changed,
        documented_fields_skipped=skipped,
    )
    assert not wrong, "\n".join(wrong)
    assert figures["refused_422"] == figures["requests"] > 0
    assert changed == 0


def _matches(template: str, url: str) -> bool:
    parts, wanted = template.strip("/").split("/"), url.strip("/").split("/")
    return len(parts) == len(wanted) and all(
        p == w or p.startswith("{") for p, w in zip(parts, wanted, strict=True)
    )
