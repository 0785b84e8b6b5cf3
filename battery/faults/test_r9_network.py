"""R9: network faults through the proxy — 200 ms latency, a 10 s blackhole, connection resets —
between kpi-svc and NATS and between kpi-svc and PostgreSQL: 503/504 problem+json within the
configured timeouts, recovery afterwards, 0 lost.

The suite runs on the test's own PostgreSQL; kpi-svc (the service on the ingestion path) is
restarted with its NATS and database URLs pointing at two `FaultProxy`s. Observations are
ingested through the gateway all along while the faults follow one another; the client retries
a failed batch with the same ids. Every failed answer must be a 503 or 504 problem+json and
come before the client's timeout (the gateway's 10 s upstream timeout plus a margin)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

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
    seed_partners,
    started,
)
from faults.proxy import FaultProxy, Mode

BATCH = 100
CLIENT_TIMEOUT = 15.0  # the gateway's 10 s upstream timeout plus a margin
BLACKHOLE_SECONDS = 10.0
# Far more than the faults need on a fast machine (sending stops when the faults end): the
# client must still be sending when the recovery phase starts.
OBSERVATIONS = sized(200_000, 1_000_000)


def _through_proxies(suite: Suite, nats: FaultProxy, database: FaultProxy) -> None:
    """Restart kpi-svc with its NATS and PostgreSQL connections going through the proxies."""
    env = suite.envs["kpi"]
    env["KPI_NATS_URL"] = f"nats://{nats.url_host_port}"
    direct = f"127.0.0.1:{database.target[1]}/"
    assert direct in env["KPI_DATABASE_URL"]
    env["KPI_DATABASE_URL"] = env["KPI_DATABASE_URL"].replace(direct, database.url_host_port + "/")
    suite.kill("kpi")
    suite.start("kpi")


async def _faults(
    nats: FaultProxy, database: FaultProxy, phases: list[tuple[str, float]], done: asyncio.Event
) -> None:
    steps: list[tuple[str, Callable[[], None], float]] = [
        ("latency", lambda: _both(nats, database, Mode.LATENCY, 0.2), 6.0),
        ("pass", lambda: _both(nats, database, Mode.PASS), 3.0),
        ("database_blackhole", lambda: database.set_mode(Mode.BLACKHOLE), BLACKHOLE_SECONDS),
        ("pass", lambda: _both(nats, database, Mode.PASS), 5.0),
        ("nats_blackhole", lambda: nats.set_mode(Mode.BLACKHOLE), BLACKHOLE_SECONDS),
        ("pass", lambda: _both(nats, database, Mode.PASS), 5.0),
        ("reset", lambda: _both(nats, database, Mode.RESET), 4.0),
        ("recovery", lambda: _both(nats, database, Mode.PASS), 8.0),
    ]
    try:
        for name, switch, seconds in steps:
            await asyncio.to_thread(switch)
            phases.append((name, time.monotonic()))
            await asyncio.sleep(seconds)
    finally:
        await asyncio.to_thread(_both, nats, database, Mode.PASS)
        done.set()


def _both(nats: FaultProxy, database: FaultProxy, mode: Mode, latency: float = 0.0) -> None:
    nats.set_mode(mode, latency=latency)
    database.set_mode(mode, latency=latency)


async def test_r9_network_faults_answer_503_or_504_and_recover(
    private_postgres: PrivatePostgres,
) -> None:
    services = ["partner", "kpi", "rebate", "alert", "gateway"]
    async with started(make_suite(services, server_url=private_postgres.url)) as suite:
        assert suite.nats is not None
        partners = await seed_partners(suite, 10, wait_in=("kpi", "rebate", "alert"))
        with (
            FaultProxy("127.0.0.1", suite.nats.port) as nats,
            FaultProxy("127.0.0.1", private_postgres.port) as database,
        ):
            await asyncio.to_thread(_through_proxies, suite, nats, database)
            observations = make_observations(partners, OBSERVATIONS, seed=9)
            ledger = Ledger()
            phases: list[tuple[str, float]] = []
            done = asyncio.Event()
            faults = asyncio.create_task(_faults(nats, database, phases, done))
            acknowledged_at: list[float] = []
            async with suite.client(timeout=CLIENT_TIMEOUT) as client:
                for start in range(0, OBSERVATIONS, BATCH):
                    if done.is_set():
                        break
                    await ingest(client, ledger, observations[start : start + BATCH])
                    acknowledged_at.append(time.monotonic())
            ran_out = not done.is_set()
            await faults
            assert not ran_out, "the observations ran out before the faults ended"
            figures, settle_seconds = await converge(suite, ledger, timeout=600)
            resets = nats.resets + database.resets
    recovery_started = dict(phases)["recovery"]
    recovered = [t - recovery_started for t in acknowledged_at if t >= recovery_started]
    statuses = dict(ledger.statuses)
    figures = report(
        "R9",
        **figures,
        statuses=statuses,
        retries=ledger.retries,
        duplicates_answered=ledger.duplicates_answered,
        slowest_request_seconds=round(ledger.slowest_seconds, 2),
        proxy_resets=resets,
        recovery_seconds=round(recovered[0], 2) if recovered else None,
        settle_seconds=settle_seconds,
    )
    assert set(statuses) <= {"200", "503", "504"}, statuses
    assert set(statuses) & {"503", "504"}, "the faults must show in the answers"
    assert figures["recovery_seconds"] is not None and figures["recovery_seconds"] <= 30
    assert figures["proxy_resets"] > 0
    assert_exactly_once(figures)
