"""H3: two writes racing with the same `ETag` — exactly one succeeds and the other gets 412,
on every resource that honours `If-Match` (partners, KPI definitions, rebate programs, alert
rules); the version grows once per race."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from battery_support import report, sized
from channel_common.testing import bearer
from inprocess.conftest import LONG_TTL, Started
from inprocess.suite import program_body

RACES = sized(1000, 10000)
# service → (create the resource; its URL), the write method, a body for contender n
Target = tuple[Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[str]], str, Any]


async def _post(client: httpx.AsyncClient, headers: dict[str, str], url: str, body: Any) -> Any:
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def a_partner(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    body = {"code": "H3", "name": "Acme", "type": "distributor", "region": "CN-GD"}
    return f"/api/v1/partners/{(await _post(client, headers, '/api/v1/partners', body))['id']}"


async def a_definition(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return "/api/v1/kpi-definitions/sales_amount"


async def a_program(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    created = await _post(client, headers, "/api/v1/rebate-programs", program_body())
    return f"/api/v1/rebate-programs/{created['id']}"


async def a_rule(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    rule = {"name": "r", "kpi": "sales_amount",
            "condition": {"type": "threshold", "op": "lt", "value": "1000"}}  # fmt: skip
    return (
        f"/api/v1/alert-rules/{(await _post(client, headers, '/api/v1/alert-rules', rule))['id']}"
    )


TARGETS: dict[str, Target] = {
    "partner": (a_partner, "PATCH", lambda n: {"name": f"contender {n}"}),
    "kpi": (a_definition, "PATCH", lambda n: {"name": f"Sales {n}"}),
    "rebate": (a_program, "PUT", lambda n: program_body(name=f"contender {n}")),
    "alert": (a_rule, "PATCH", lambda n: {"name": f"contender {n}"}),
}


async def test_two_writers_with_one_etag_one_wins_one_gets_412(started: Started) -> None:
    outcomes: Counter[str] = Counter()
    bad: list[str] = []
    per_service = RACES // len(TARGETS)
    for name, (create, method, body) in TARGETS.items():
        async with started(name) as (svc, client):
            headers = bearer(svc.settings, ["admin"], subject="battery-racer", ttl_seconds=LONG_TTL)
            url = await create(client, headers)
            first = await client.get(url, headers=headers)
            etag = first.headers["ETag"]
            start_version = first.json()["version"]
            for race in range(per_service):
                a, b = await asyncio.gather(
                    *(
                        client.request(
                            method,
                            url,
                            json=body(2 * race + n),
                            headers={**headers, "If-Match": etag},
                        )
                        for n in range(2)
                    )
                )
                statuses = sorted((a.status_code, b.status_code))
                outcomes[f"{statuses[0]}+{statuses[1]}"] += 1
                if statuses != [200, 412]:
                    bad.append(f"{name} race {race}: {statuses} {a.text[:200]} {b.text[:200]}")
                winner = a if a.status_code == 200 else b
                etag = winner.headers.get("ETag", etag)
            final = (await client.get(url, headers=headers)).json()
            if final["version"] - start_version != per_service:
                bad.append(f"{name}: version moved {final['version'] - start_version} times")
    figures = report(
        "H3",
        races=per_service * len(TARGETS),
        one_success_one_412=outcomes["200+412"],
        other_outcomes=sum(n for k, n in outcomes.items() if k != "200+412"),
    )
    assert not bad, "\n".join(bad[:20])
    assert figures["one_success_one_412"] == figures["races"] == RACES
