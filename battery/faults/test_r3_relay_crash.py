"""R3: the outbox relay killed between publish and mark-sent — JetStream reports duplicates > 0;
0 duplicate effects downstream.

kpi-svc is started with the fault hook `KPI_FAULT_EXIT_BEFORE_MARK_SENT=true`: after its relay has
published a batch of outbox rows, and before it marks them sent, the process exits (code 70).
The test ingests a batch through the gateway (retrying if the answer is lost with the process),
waits for the exit, restarts kpi-svc without the hook, and lets the relay publish the same rows
again: JetStream acknowledges them as duplicates (`channel_outbox_duplicates_total`). At the
end every projection must equal the exact reference, and alert-svc's per-day observation counter
(an additive effect) must equal the number of observations."""

from __future__ import annotations

import asyncio
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
    rows,
    seed_partners,
    wait_for,
)

CRASHES = sized(3, 10)
PER_CRASH = sized(1_000, 5_000)
HOOK = "KPI_FAULT_EXIT_BEFORE_MARK_SENT"
FAULT_EXIT_CODE = 70


async def _wait_exit(suite: Suite, timeout: float = 120.0) -> int:
    started = time.monotonic()
    process = suite.processes["kpi"]
    while process.poll() is None:
        assert time.monotonic() - started < timeout, "kpi-svc did not exit through the hook"
        await asyncio.sleep(0.1)
    return process.returncode


async def _unsent(suite: Suite) -> int:
    found = await rows(suite, "kpi", "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    return int(found[0][0])


async def test_r3_relay_crash_before_mark_sent_yields_duplicates_but_no_duplicate_effects() -> None:
    with make_suite(["partner", "kpi", "rebate", "alert", "gateway"]) as suite:
        partners = await seed_partners(suite, 10, wait_in=("kpi", "rebate", "alert"))
        observations = make_observations(partners, CRASHES * PER_CRASH, seed=3)
        ledger = Ledger()
        exit_codes: list[int] = []
        duplicates = 0.0
        async with suite.client(timeout=30) as client:
            for n in range(CRASHES):
                suite.kill("kpi", signal.SIGTERM)
                suite.envs["kpi"][HOOK] = "true"
                await asyncio.to_thread(suite.start, "kpi")
                batch = observations[n * PER_CRASH : (n + 1) * PER_CRASH]
                sending = asyncio.create_task(ingest(client, ledger, batch))
                exit_codes.append(await _wait_exit(suite))
                del suite.envs["kpi"][HOOK]
                await asyncio.to_thread(suite.start, "kpi")
                await sending
                await wait_for(lambda: _unsent_is_zero(suite), timeout=120)
                duplicates += await metric(suite, "kpi", "channel_outbox_duplicates_total")
        figures, settle_seconds = await converge(suite, ledger)
    figures = report(
        "R3",
        **figures,
        crashes=CRASHES,
        exit_codes=exit_codes,
        jetstream_duplicates=int(duplicates),
        retries=ledger.retries,
        statuses=dict(ledger.statuses),
        settle_seconds=settle_seconds,
    )
    assert exit_codes == [FAULT_EXIT_CODE] * CRASHES
    assert figures["jetstream_duplicates"] > 0
    assert_exactly_once(figures)


async def _unsent_is_zero(suite: Suite) -> bool:
    return await _unsent(suite) == 0
