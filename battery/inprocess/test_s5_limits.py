"""S5: the limits hold on every operation — a page size over the maximum is 422, a body over
the cap is 413 (declared or streamed), and a burst over the gateway's per-principal rate limit
is 429 with `Retry-After`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator

from battery_support import report
from channel_common.testing import assert_problem, bearer
from inprocess.conftest import Started
from inprocess.operations import operations
from inprocess.suite import SERVICES

BODY_CAP = 64 * 1024  # each service runs with this cap here, so every write can be probed
MAX_PAGE = 500
RATE, BURST = 0.5, 50  # tokens a second, saved up


async def test_page_size_and_body_cap_on_every_operation(started: Started) -> None:
    lists = writes = streamed_exempt = 0
    wrong: Counter[str] = Counter()
    for name in SERVICES:
        async with started(name, max_body_bytes=BODY_CAP) as (svc, client):
            headers = bearer(svc.settings, ["admin"], subject="battery-admin")
            document = svc.app.openapi()["paths"]
            for op in operations(svc.app):
                documented = document.get(op.path, {}).get(op.method.lower(), {})
                params = {p["name"] for p in documented.get("parameters", [])}
                if op.method == "GET" and "limit" in params:
                    lists += 1
                    for limit, status in ((MAX_PAGE + 1, 422), (10**6, 422), (0, 422)):
                        r = await client.get(op.url(), params={"limit": limit}, headers=headers)
                        if r.status_code != status:
                            wrong[f"{op.label} limit={limit} → {r.status_code}"] += 1
                if op.media_type is None:
                    continue
                if op.media_type != "application/json":
                    # Streamed imports have no body cap by design (DESIGN §5, decisions:
                    # lines ≤ 64 KiB, checked line by line); every JSON body has one.
                    streamed_exempt += 1
                    continue
                writes += 1
                media = {**headers, "Content-Type": op.media_type}
                oversized = b"[" + b" " * BODY_CAP + b"]"
                declared = await client.request(
                    op.method, op.url(), content=oversized, headers=media
                )

                async def streamed() -> AsyncIterator[bytes]:
                    for _ in range(BODY_CAP // 4096 + 2):
                        yield b" " * 4096

                chunked = await client.request(
                    op.method, op.url(), content=streamed(), headers=media
                )
                for how, r in (("declared", declared), ("streamed", chunked)):
                    if r.status_code != 413:
                        wrong[f"{op.label} {how} {len(oversized)} bytes → {r.status_code}"] += 1
                    else:
                        assert_problem(r, 413)
    figures = report(
        "S5",
        part="page_and_body",
        list_operations=lists,
        write_operations=writes,
        streamed_imports_exempt=streamed_exempt,
        wrong_answers=sum(wrong.values()),
    )
    assert not wrong, "\n".join(sorted(wrong))
    assert figures["list_operations"] >= 15 and figures["write_operations"] >= 20


async def test_a_burst_over_the_rate_limit_is_429_with_retry_after(started: Started) -> None:
    async with started("gateway", rate_limit_per_second=RATE, rate_limit_burst=BURST) as (
        svc,
        client,
    ):
        burst_owner = bearer(svc.settings, ["admin"], subject="burst")
        bystander = bearer(svc.settings, ["admin"], subject="bystander")
        started_at = time.monotonic()
        answers = [
            await client.get("/api/v1/api-keys", headers=burst_owner) for _ in range(2 * BURST)
        ]
        elapsed = time.monotonic() - started_at
        other = await client.get("/api/v1/api-keys", headers=bystander)
    allowed = [r for r in answers if r.status_code == 200]
    limited = [r for r in answers if r.status_code == 429]
    retry_after = [int(r.headers.get("retry-after", "0")) for r in limited]
    figures = report(
        "S5",
        part="rate_limit",
        requests=len(answers),
        allowed=len(allowed),
        limited_429=len(limited),
        with_retry_after=sum(1 for s in retry_after if s >= 1),
        seconds=round(elapsed, 2),
    )
    assert len(allowed) + len(limited) == len(answers)
    assert BURST <= len(allowed) <= BURST + int(elapsed * RATE) + 1
    assert figures["with_retry_after"] == len(limited) > 0
    for r in limited:
        assert_problem(r, 429)
    assert other.status_code == 200  # the limit is per principal
