"""R4: nats-server SIGSTOPed for 10 s, 5 times — HTTP answers 2xx or 503 problem+json, never
500, never a hang past the timeout; 0 lost.

A paused server keeps its sockets open but answers nothing, so clients learn of it only from
their own timeouts. Observations are ingested through the gateway and partners listed all along;
every answer is counted by status. The client's timeout is the gateway's upstream timeout
(10 s) plus a margin: a request that takes longer counts as a hang."""

from __future__ import annotations

import asyncio
import random
import signal
import time

import httpx
from battery_support import report, sized
from faults.drill import (
    Ledger,
    Observation,
    Suite,
    converge,
    ingest,
    make_observations,
    make_suite,
    seed_partners,
)

PAUSES = 5
PAUSE_SECONDS = 10.0
BATCH = 200
CLIENT_TIMEOUT = 15.0  # the gateway's 10 s upstream timeout plus a margin
OBSERVATIONS = sized(40_000, 200_000)  # more than the pauses need; sending stops with them


async def _pause_nats(suite: Suite, rng: random.Random, done: asyncio.Event) -> None:
    assert suite.nats is not None and suite.nats.process is not None
    try:
        for _ in range(PAUSES):
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            suite.nats.process.send_signal(signal.SIGSTOP)
            try:
                await asyncio.sleep(PAUSE_SECONDS)
            finally:
                suite.nats.process.send_signal(signal.SIGCONT)
        await asyncio.sleep(2.0)
    finally:
        done.set()


async def _read_partners(client: httpx.AsyncClient, statuses: dict[str, int]) -> None:
    try:
        answer = await client.get("/api/v1/partners", params={"limit": 10})
    except httpx.TimeoutException:
        statuses["timeout"] = statuses.get("timeout", 0) + 1
        return
    statuses[str(answer.status_code)] = statuses.get(str(answer.status_code), 0) + 1
    if answer.status_code == 503:
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_r4_nats_paused_never_yields_500_or_a_hang() -> None:
    rng = random.Random(4)  # noqa: S311 (a reproducible drill, not a secret)
    with make_suite(["partner", "kpi", "rebate", "alert", "gateway"]) as suite:
        partners = await seed_partners(suite, 10, wait_in=("kpi", "rebate", "alert"))
        observations = make_observations(partners, OBSERVATIONS, seed=4)
        ledger = Ledger()
        reads: dict[str, int] = {}
        done = asyncio.Event()
        pauser = asyncio.create_task(_pause_nats(suite, rng, done))
        started = time.monotonic()
        async with suite.client(timeout=CLIENT_TIMEOUT) as client:
            for start in range(0, OBSERVATIONS, BATCH):
                if done.is_set():
                    break
                batch: list[Observation] = observations[start : start + BATCH]
                await asyncio.gather(ingest(client, ledger, batch), _read_partners(client, reads))
        await pauser
        elapsed = round(time.monotonic() - started, 1)
        figures, settle_seconds = await converge(suite, ledger, timeout=600)
    statuses = dict(ledger.statuses)
    figures = report(
        "R4",
        **figures,
        pauses=PAUSES,
        pause_seconds=PAUSE_SECONDS,
        ingest_statuses=statuses,
        read_statuses=reads,
        slowest_request_seconds=round(ledger.slowest_seconds, 2),
        retries=ledger.retries,
        elapsed_seconds=elapsed,
        settle_seconds=settle_seconds,
    )
    answers = {**statuses, **{f"read_{k}": v for k, v in reads.items()}}
    assert not {k for k in answers if k.endswith("500")}, answers
    assert "timeout" not in statuses and "read_timeout" not in answers, answers
    assert set(statuses) <= {"200", "503"}, statuses
    assert set(reads) <= {"200", "503"}, reads
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["kpi_wrong_months"] == 0
    assert figures["rebate_wrong_months"] == 0
    assert figures["alert_wrong_months"] == 0
    assert figures["alert_observed"] == figures["acknowledged"]
