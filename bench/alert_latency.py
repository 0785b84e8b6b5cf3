"""Alert latency: time from the 2xx of an ingest request to the signed webhook arriving.

Starts its own suite on loopback with free ports -- nats-server (JetStream), partner-svc,
kpi-svc, alert-svc and the gateway (rebate-svc is not on the path and is not started) -- with
SQLite files in a temporary directory, or fresh PostgreSQL databases (``--database-url``) that
are created for the run and dropped afterwards. It migrates them, waits for ``/readyz``, and
runs a webhook receiver in-process (Starlette/uvicorn in its own thread and event loop) that
stamps each delivery on arrival and verifies its Standard Webhooks signature.

Through the gateway (bootstrap admin key) it registers N partners and activates them, creates
one threshold rule (``sales_amount`` per month ``lt 1000``, ``for_periods: 1``, critical) and
one webhook for ``alert.fired``; once kpi-svc and alert-svc have consumed every partner event
it sends, for each partner, one ingest request with one low observation and matches the webhook
delivery by partner id: latency = webhook arrival - ingest 2xx (same monotonic clock).

The alert's ``started_at`` (stamped by alert-svc when it evaluated the aggregate event) splits
the latency into two stages: ingest 2xx -> evaluated (kpi outbox relay, NATS, alert-svc consumer
fetch, evaluation commit) and evaluated -> arrival (delivery queue, delivery worker poll, HTTP).

    .venv/bin/python bench/alert_latency.py --alerts 1000
    .venv/bin/python bench/alert_latency.py --alerts 1000 --database-url postgresql://postgres@127.0.0.1:5432

Prints progress on stderr, then a readable summary and one JSON line on stdout. Every phase is
bounded in time; processes, databases and the temporary directory are removed on the way out,
also after a failure or Ctrl-C (``--keep`` keeps the directory with the service logs).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
import nats
from alert_report import Sent, readable, stored_stages, summarise
from common import PREFIXES, Suite, SuiteOptions, handle_termination
from webhook_receiver import Receiver

HOST = "127.0.0.1"
KPI = "sales_amount"
LOW_VALUE = 5
THRESHOLD = 1000


class BenchError(Exception):
    """A failure reported as one line (plus the log tail it names)."""


STARTED = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr, with the time since start."""
    print(f"[{time.monotonic() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- the scenario ------------------------------------------------------------------------------


async def api(
    client: httpx.AsyncClient, method: str, path: str, body: Any = None, *, expect: int = 200
) -> Any:
    """Call the gateway; fail on an unexpected status."""
    response = await client.request(method, path, json=body)
    if response.status_code != expect:
        raise BenchError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
    return response.json() if response.content else None


async def register_partners(
    client: httpx.AsyncClient, count: int, run_id: str, concurrency: int
) -> list[str]:
    """Create and activate `count` partners of the default (lowest) tier."""
    ids: list[str | None] = [None] * count
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            created = await api(
                client,
                "POST",
                "/api/v1/partners",
                {
                    "code": f"bench-{run_id}-{index:05d}",
                    "name": f"Bench partner {index}",
                    "type": "reseller",
                    "tier": "registered",
                    "region": "CN-GD-SZ",
                    # Meets every tier's admission up to silver; `registered` asks for nothing.
                    "qualification": {
                        "registered_capital": "5000000",
                        "years_in_business": 3,
                        "service_staff": 10,
                    },
                },
                expect=201,
            )
            partner_id = created["id"]
            for target in ("onboarding", "active"):
                await api(
                    client,
                    "POST",
                    f"/api/v1/partners/{partner_id}/transitions",
                    {"to": target, "reason": "alert latency benchmark"},
                )
            ids[index] = partner_id

    await asyncio.gather(*(one(i) for i in range(count)))
    return [i for i in ids if i is not None]


async def wait_partner_events(nats_url: str, expected: int, timeout: float) -> None:
    """Wait until the PARTNER stream holds `expected` events and every consumer of it (kpi-svc's
    and alert-svc's replicas) has acknowledged all of them."""
    nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            info = await js.stream_info("PARTNER")
            consumers = await js.consumers_info("PARTNER") if info.state.messages else []
            lagging = [
                c.name
                for c in consumers
                if (c.num_pending or 0) > 0
                or (c.num_ack_pending or 0) > 0
                or (c.delivered.stream_seq if c.delivered else 0) < info.state.last_seq
            ]
            status = (
                f"{info.state.messages}/{expected} events, {len(consumers)} consumers, "
                f"lagging: {lagging}"
            )
            if info.state.messages >= expected and len(consumers) >= 2 and not lagging:
                return
            await asyncio.sleep(0.2)
        raise BenchError(f"partner events not consumed within {timeout:.0f} s ({status})")
    finally:
        await nc.close()


async def ingest_all(
    client: httpx.AsyncClient,
    partner_ids: Sequence[str],
    concurrency: int,
    interval: float,
) -> tuple[list[Sent], list[str]]:
    """One single-observation request per partner; returns the accepted ones and problems."""
    gate = asyncio.Semaphore(concurrency)
    sent: list[Sent] = []
    problems: list[str] = []
    today = date.today().isoformat()
    pacing = random.Random(6)  # noqa: S311 - pacing, not security

    async def one(partner_id: str) -> None:
        body = {
            "observations": [
                {
                    "id": str(uuid.uuid4()),
                    "partner_id": partner_id,
                    "kpi": KPI,
                    "value": LOW_VALUE,
                    "occurred_on": today,
                    "region": "CN-GD-SZ",
                    "source": "bench-alert-latency",
                }
            ]
        }
        async with gate:
            begun = time.perf_counter()
            try:
                response = await client.post("/api/v1/observations", json=body)
            except httpx.HTTPError as exc:
                problems.append(f"{partner_id}: {exc!r}")
                return
            mono, wall = time.perf_counter(), time.time()
            if interval:
                # Poisson arrivals: a fixed pause would phase-lock with the worker's poll.
                await asyncio.sleep(pacing.expovariate(1 / interval))
        if response.status_code // 100 != 2:
            problems.append(f"{partner_id}: HTTP {response.status_code} {response.text[:200]}")
            return
        answer = response.json()
        if answer.get("accepted") != 1:
            problems.append(f"{partner_id}: not accepted: {answer}")
            return
        sent.append(Sent(partner_id, mono, wall, (mono - begun) * 1000))

    await asyncio.gather(*(one(p) for p in partner_ids))
    return sent, problems


# --- the run -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace, suite: Suite) -> dict[str, Any]:
    """Set up, measure; returns the result."""
    run_id = suite.run_id
    log(f"suite ready (gateway {suite.gateway_url}, logs in {suite.temp})")

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver = Receiver(secret=secret)
    receiver.start()
    try:
        since = time.time()
        result = await scenario(args, suite, receiver, run_id)
    finally:
        receiver.stop()
    try:
        result["stored_stages"] = await asyncio.wait_for(stored_stages(suite, since), 60)
    except Exception as exc:  # a diagnostic only: the measurement stands without it
        log(f"could not read the stored stage timestamps: {exc!r}")
    return result


async def scenario(
    args: argparse.Namespace, suite: Suite, receiver: Receiver, run_id: str
) -> dict[str, Any]:
    """Partners, rule, webhook, then the measured ingests."""
    limits = httpx.Limits(max_connections=max(16, args.concurrency * 2))
    async with httpx.AsyncClient(
        base_url=suite.gateway_url,
        headers=suite.admin_headers,
        timeout=30,
        limits=limits,
    ) as client:
        await api(
            client,
            "POST",
            "/api/v1/webhooks",
            {"url": receiver.url, "secret": receiver.secret, "events": ["alert.fired"]},
            expect=201,
        )
        await api(
            client,
            "POST",
            "/api/v1/alert-rules",
            {
                "name": "bench: low monthly sales",
                "kpi": KPI,
                "granularity": "month",
                "condition": {"type": "threshold", "op": "lt", "value": THRESHOLD},
                "for_periods": 1,
                "severity": "critical",
            },
            expect=201,
        )
        began = time.monotonic()
        partner_ids = await register_partners(client, args.alerts, run_id, concurrency=8)
        log(
            f"registered and activated {len(partner_ids)} partners "
            f"in {time.monotonic() - began:.1f} s"
        )
        await wait_partner_events(suite.nats_url, 3 * len(partner_ids), timeout=120)
        log("kpi-svc and alert-svc have consumed every partner event")
        suite.check_alive()

        began = time.monotonic()
        cpu_before = suite.cpu_seconds()
        cpu_before["bench"] = time.process_time()
        sent, problems = await ingest_all(client, partner_ids, args.concurrency, args.interval)
        log(f"sent {len(sent)} ingest requests in {time.monotonic() - began:.1f} s")
        for problem in problems[:5]:
            log(f"ingest problem: {problem}")
        deadline = time.monotonic() + args.wait
        while receiver.count() < len(sent) and time.monotonic() < deadline:
            suite.check_alive()
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - began
        cpu_after = suite.cpu_seconds()
        cpu_after["bench"] = time.process_time()
        # A moment more to catch duplicates.
        await asyncio.sleep(0.5)
    log(f"{receiver.count()} of {len(sent)} webhooks arrived")
    result: dict[str, Any] = summarise(sent, receiver, args, problems)
    # Share of one core each process used while ingesting and delivering (this box has
    # os.cpu_count() cores): tells queueing behind a busy process from waiting on a timer.
    result["measured_seconds"] = round(elapsed, 2)
    result["cpu_cores"] = os.cpu_count()
    result["cpu_share"] = {
        n: round((cpu_after[n] - cpu_before[n]) / elapsed, 2) for n in cpu_before if elapsed > 0
    }
    return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--alerts", type=int, default=1000, help="partners = alerts (default 1000)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL (postgresql://user@host:port); fresh databases are created "
        "and dropped. Default: SQLite files in a temporary directory.",
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="ingest requests in flight (default 1)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.0,
        help="mean pause after each ingest request, per slot, in seconds; exponentially "
        "distributed (Poisson arrivals) so it cannot phase-lock with the webhook poll (default 0)",
    )
    parser.add_argument(
        "--webhook-poll",
        type=float,
        default=1.0,
        help="ALERT_WEBHOOK_POLL_SECONDS for the run (default 1.0, the service default: "
        "deliveries are woken by the commit that queues them; the poll paces retries)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="PREFIX_NAME=VALUE",
        help="extra service setting, e.g. KPI_OUTBOX_POLL_SECONDS=0.1 (repeatable)",
    )
    parser.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the last webhooks (60)"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="overall limit in seconds (default 900)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with the logs")
    args = parser.parse_args(argv)
    if args.alerts < 1 or args.concurrency < 1:
        parser.error("--alerts and --concurrency must be at least 1")
    return args


def suite_options(args: argparse.Namespace) -> SuiteOptions:
    """The processes this benchmark runs (rebate-svc is not on the path) and their settings."""
    extra = {
        "ALERT_ALLOW_LOOPBACK_WEBHOOKS": "true",
        "ALERT_WEBHOOK_POLL_SECONDS": str(args.webhook_poll),
        # Registration sends 3 requests per partner; the default 50/s would throttle the setup.
        "GATEWAY_RATE_LIMIT_PER_SECOND": "100000",
        "GATEWAY_RATE_LIMIT_BURST": "100000",
    }
    for setting in args.env:
        key, sep, value = setting.partition("=")
        if not sep or not key.startswith(PREFIXES):
            raise BenchError(f"--env {setting!r}: expected PREFIX_NAME=value with a service prefix")
        extra[key] = value
    return SuiteOptions(
        services=("partner", "kpi", "alert", "gateway"),
        server_url=args.database_url,
        fast_server=False,
        extra_env=extra,
        keep_files=args.keep,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every alert arrived, 1 otherwise or on failure."""
    args = parse_args(argv)
    try:
        handle_termination()
        options = suite_options(args)
        log("starting the suite")
        with Suite(options) as suite:
            result = asyncio.run(asyncio.wait_for(run(args, suite), args.timeout))
    except (BenchError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"error: the run took longer than {args.timeout:.0f} s", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(readable(result))
    print(json.dumps(result, separators=(",", ":")))
    return 0 if result["missing"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
