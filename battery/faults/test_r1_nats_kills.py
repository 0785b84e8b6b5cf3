"""R1: nats-server SIGKILLed 5 times at random while observations are ingested through the
gateway — every 2xx-acknowledged observation stored once in kpi-svc and reflected once in
rebate-svc's and alert-svc's projections; 0 lost, 0 duplicated; the figures show retries > 0.

The kills fall at random batches of the ingestion; the server comes back on the same port and
store after a random pause, while the ingestion goes on. `retries` adds up every retry the
faults caused: the client's retried batches, the kpi-svc relay's failed publishes, and the
consumers' redeliveries."""

from __future__ import annotations

import asyncio
import random
import signal
import time

from battery_support import report, sized
from faults.drill import (
    Ledger,
    Suite,
    assert_exactly_once,
    converge,
    ingest,
    make_observations,
    make_suite,
    metric,
    seed_partners,
)

OBSERVATIONS = sized(20_000, 100_000)
BATCH = 250
KILLS = 5


async def _kill_and_restart(
    suite: Suite, rng: random.Random, downtime: list[float], held: list[int]
) -> None:
    assert suite.nats is not None and suite.nats.process is not None
    suite.nats.process.send_signal(signal.SIGKILL)
    suite.nats.process.wait(10)
    killed = time.monotonic()
    await asyncio.sleep(rng.uniform(0.5, 3.0))
    # Events committed meanwhile wait in kpi-svc's outbox: the relay publishes them again later.
    held.append(int(await metric(suite, "kpi", "channel_outbox_backlog")))
    await asyncio.to_thread(suite.nats.start)
    downtime.append(round(time.monotonic() - killed, 1))


async def test_r1_nats_killed_during_ingestion_loses_and_duplicates_nothing() -> None:
    rng = random.Random(1)  # noqa: S311 (a reproducible drill, not a secret)
    with make_suite(["partner", "kpi", "rebate", "alert", "gateway"]) as suite:
        partners = await seed_partners(suite, 20, wait_in=("kpi", "rebate", "alert"))
        observations = make_observations(partners, OBSERVATIONS, seed=1)
        batches = [observations[i : i + BATCH] for i in range(0, OBSERVATIONS, BATCH)]
        kill_at = set(rng.sample(range(1, len(batches) - 1), KILLS))
        ledger = Ledger()
        downtime: list[float] = []
        held: list[int] = []  # kpi-svc's unpublished events at the end of each outage
        killer: asyncio.Task[None] | None = None
        async with suite.client(timeout=60) as client:
            for n, batch in enumerate(batches):
                if n in kill_at:
                    if killer is not None:
                        await killer  # one outage at a time
                    killer = asyncio.create_task(_kill_and_restart(suite, rng, downtime, held))
                await ingest(client, ledger, batch)
        if killer is not None:
            await killer
        figures, settle_seconds = await converge(suite, ledger, timeout=600)
        publish_failures = await metric(suite, "kpi", "channel_outbox_publish_failures_total")
        redeliveries = sum(
            [
                await metric(suite, name, "channel_consumer_redeliveries_total")
                for name in ("rebate", "alert")
            ]
        )
    figures = report(
        "R1",
        **figures,
        nats_kills=len(downtime),
        nats_downtime_seconds=downtime,
        retries=int(ledger.retries + publish_failures + redeliveries + sum(held)),
        client_retries=ledger.retries,
        events_held_in_outbox=held,
        relay_publish_failures=int(publish_failures),
        consumer_redeliveries=int(redeliveries),
        statuses=dict(ledger.statuses),
        settle_seconds=settle_seconds,
    )
    assert figures["nats_kills"] == KILLS
    assert figures["retries"] > 0
    assert_exactly_once(figures)
