"""R6: PostgreSQL stopped in immediate mode during writes, 3 times — every 2xx write present
afterwards; outboxes drain.

The whole suite runs on a PostgreSQL server of the test's own (`private_postgres`). While
observations are ingested through the gateway, the server is stopped with
`pg_ctl -m immediate` (no shutdown checkpoint: crash recovery on restart) and started again on
the same port after a pause. The client retries a batch on 5xx or a broken connection with the
same ids; answers while the database is down must be problem+json 503 (dependency down), never
500."""

from __future__ import annotations

import asyncio
import random
import time

from battery_support import report, sized
from faults.conftest import PrivatePostgres
from faults.drill import (
    Ledger,
    Suite,
    assert_exactly_once,
    converge,
    ingest,
    make_observations,
    make_suite,
    rows,
    seed_partners,
    started,
    wait_for,
)

STOPS = 3
BATCH = 250
OBSERVATIONS = sized(10_000, 50_000)
DOWN_SECONDS = 3.0


async def _stop_postgres(server: PrivatePostgres, rng: random.Random, done: asyncio.Event) -> None:
    try:
        for _ in range(STOPS):
            await asyncio.sleep(rng.uniform(1.0, 4.0))
            await asyncio.to_thread(server.stop_immediately)
            await asyncio.sleep(DOWN_SECONDS)
            await asyncio.to_thread(server.start)
    finally:
        done.set()


async def _outboxes_empty(suite: Suite) -> bool:
    for service in ("partner", "kpi", "rebate", "alert"):
        found = await rows(suite, service, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        if found[0][0]:
            return False
    return True


async def test_r6_postgres_stopped_immediately_loses_no_acknowledged_write(
    private_postgres: PrivatePostgres,
) -> None:
    rng = random.Random(6)  # noqa: S311 (a reproducible drill, not a secret)
    services = ["partner", "kpi", "rebate", "alert", "gateway"]
    async with started(make_suite(services, server_url=private_postgres.url)) as suite:
        partners = await seed_partners(suite, 10, wait_in=("kpi", "rebate", "alert"))
        observations = make_observations(partners, OBSERVATIONS, seed=6)
        ledger = Ledger()
        done = asyncio.Event()
        stopper = asyncio.create_task(_stop_postgres(private_postgres, rng, done))
        begun = time.monotonic()
        sent = 0
        async with suite.client(timeout=30) as client:
            # Keep writing until the last stop is over (and at least the sized amount).
            while sent < len(observations) and not (done.is_set() and sent >= OBSERVATIONS // 2):
                await ingest(client, ledger, observations[sent : sent + BATCH])
                sent += BATCH
        await stopper
        elapsed = round(time.monotonic() - begun, 1)
        figures, settle_seconds = await converge(suite, ledger, timeout=600)
        drain_seconds = await wait_for(lambda: _outboxes_empty(suite), timeout=300)
    statuses = dict(ledger.statuses)
    figures = report(
        "R6",
        **figures,
        postgres_stops=private_postgres.stops,
        statuses=statuses,
        retries=ledger.retries,
        duplicates_answered=ledger.duplicates_answered,
        elapsed_seconds=elapsed,
        settle_seconds=settle_seconds,
        outbox_drain_seconds=round(drain_seconds, 1),
    )
    assert figures["postgres_stops"] == STOPS
    assert "500" not in statuses, statuses
    assert_exactly_once(figures)
