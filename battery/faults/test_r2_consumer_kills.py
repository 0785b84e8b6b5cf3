"""R2: each consumer service SIGKILLed 15 times while draining — 0 duplicate effects; projected
sums equal the exact reference.

rebate-svc and alert-svc are killed first, so that the observations ingested through the gateway
pile up in their durable consumers. Then, 15 times, both are started, left to drain for a random
moment and SIGKILLed again (mid-transaction, mid-ack). At the end they drain undisturbed; every
monthly sum in both projections must equal the exact reference and alert-svc's per-day
observation counter (an additive effect, so a re-applied event would show) the number of
observations."""

from __future__ import annotations

import asyncio
import random
import signal

import nats
from battery_support import report, sized
from faults.drill import (
    Ledger,
    Suite,
    assert_exactly_once,
    converge,
    ingest,
    make_observations,
    make_suite,
    seed_partners,
)

OBSERVATIONS = sized(20_000, 100_000)
BATCH = 250
KILLS = 15
CONSUMERS = (
    ("rebate-kpi-aggregates", "rebate"),
    ("alert-svc-aggregates", "alert"),
    ("alert-svc-observations", "alert"),
)


async def _backlog(suite: Suite) -> int:
    """Messages the KPI consumers have not acknowledged yet."""
    assert suite.nats is not None
    nc = await nats.connect(suite.nats.url)
    try:
        js = nc.jetstream()
        total = 0
        for durable, _ in CONSUMERS:
            info = await js.consumer_info("KPI", durable)
            total += int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        return total
    finally:
        await nc.close()


async def test_r2_consumers_killed_while_draining_apply_every_event_once() -> None:
    rng = random.Random(2)  # noqa: S311 (a reproducible drill, not a secret)
    with make_suite(["partner", "kpi", "rebate", "alert", "gateway"]) as suite:
        partners = await seed_partners(suite, 20, wait_in=("kpi", "rebate", "alert"))
        for name in ("rebate", "alert"):
            suite.kill(name, signal.SIGKILL)
        ledger = Ledger()
        observations = make_observations(partners, OBSERVATIONS, seed=2)
        async with suite.client(timeout=60) as client:
            for start in range(0, OBSERVATIONS, BATCH):
                await ingest(client, ledger, observations[start : start + BATCH])
        backlog_before = await _backlog(suite)
        backlogs: list[int] = []
        for _ in range(KILLS):
            await asyncio.gather(
                asyncio.to_thread(suite.start, "rebate"), asyncio.to_thread(suite.start, "alert")
            )
            await asyncio.sleep(rng.uniform(0.2, 2.0))
            backlogs.append(await _backlog(suite))
            for name in ("rebate", "alert"):
                suite.kill(name, signal.SIGKILL)
        await asyncio.gather(
            asyncio.to_thread(suite.start, "rebate"), asyncio.to_thread(suite.start, "alert")
        )
        figures, settle_seconds = await converge(suite, ledger, timeout=600)
    figures = report(
        "R2",
        **figures,
        kills_per_service=KILLS,
        kills_while_draining=sum(1 for b in backlogs if b > 0),
        backlog_before=backlog_before,
        backlog_at_kills=backlogs,
        retries=ledger.retries,
        settle_seconds=settle_seconds,
    )
    assert figures["kills_while_draining"] >= 1
    assert_exactly_once(figures)
