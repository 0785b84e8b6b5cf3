"""Ingestion benchmark: observations per second through the gateway into kpi-svc on PostgreSQL,
against the raw limit (asyncpg COPY of the same rows into a bare table).

    make bench                                        # 500,000 observations, the defaults
    uv run --no-sync python bench/ingest.py --observations 100000 --connections 6
    uv run --no-sync python bench/ingest.py --kpi-workers 2 --gateway-workers 2

The suite runs as real processes (bench/common.py): fresh databases on the local PostgreSQL
server (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres), its own
nats-server, partner-svc, kpi-svc and the gateway under uvicorn on free loopback ports. The run
registers partners through the gateway (partner-svc → `partner.*` events → kpi-svc's replica),
adds KPI definitions up to a dozen, waits until kpi-svc knows every partner, then posts
1,000-item batches over a few concurrent connections: daily figures of every KPI for partners
over 18 months. Each batch is validated, stored, folded into day and month aggregates and
announced in chunked outbox events in one transaction. Then the same rows are COPYed into a
bare table. The last line printed is one JSON object with both rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_SERVER_URL, Suite, SuiteOptions, expect, handle_termination
from ingest_data import (
    ADDED,
    FIRST_DAY,
    KPIS,
    REGIONS,
    SOURCE,
    TYPES,
    Partner,
    Row,
    encode_batch,
    make_rows,
)

REPLICA_TIMEOUT = 180.0
GOAL_RATE = 50_000
GOAL_RATIO = 1 / 3


async def in_parallel(count: int, workers: int, job: Callable[[int], Awaitable[None]]) -> None:
    """Run `job(0..count-1)` with at most `workers` at a time; the first failure cancels."""
    next_index = iter(range(count))

    async def worker() -> None:
        for index in next_index:
            await job(index)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(workers, count)):
            group.create_task(worker())


async def add_definitions(client: httpx.AsyncClient) -> None:
    """The five KPIs that make a dozen with the seeded seven."""
    for kpi, fields in ADDED:
        body = {"key": kpi.key, "name": kpi.key.replace("_", " ").capitalize(), **fields}
        body.setdefault("min_value", "0")
        expect(await client.post("/api/v1/kpi-definitions", json=body), 201)


async def register_partners(
    client: httpx.AsyncClient, count: int, connections: int, run_id: str
) -> list[Partner]:
    """Register `count` partners through the gateway."""
    partners: list[Partner | None] = [None] * count

    async def register(index: int) -> None:
        body = {
            "code": f"B{run_id}-{index:05d}",
            "name": f"Bench partner {index}",
            "type": TYPES[index % len(TYPES)],
            "region": REGIONS[index % len(REGIONS)],
        }
        answer = expect(await client.post("/api/v1/partners", json=body), 201)
        partners[index] = Partner(uuid.UUID(answer["id"]), answer["region"])

    await in_parallel(count, connections, register)
    return [partner for partner in partners if partner is not None]


async def wait_for_replica(client: httpx.AsyncClient, partners: Sequence[Partner]) -> None:
    """Until kpi-svc knows every partner. The probes carry an out-of-range value: a known
    partner's item is rejected as `out_of_range`, an unknown one's as `unknown_partner`, and
    nothing is stored either way."""
    deadline = time.monotonic() + REPLICA_TIMEOUT
    waiting = list(partners)
    while waiting:
        items = [
            {"partner_id": str(p.id), "kpi": "conversion_rate", "value": "2",
             "occurred_on": FIRST_DAY.isoformat()}
            for p in waiting[:1000]
        ]  # fmt: skip
        answer = expect(
            await client.post("/api/v1/observations", json={"observations": items}), 200
        )
        unknown = {r["index"] for r in answer["rejected"] if r["code"] == "unknown_partner"}
        if answer["accepted"] or answer["rejected_count"] != len(items):
            raise RuntimeError(f"unexpected probe answer: {str(answer)[:300]}")
        waiting = [p for i, p in enumerate(waiting[:1000]) if i in unknown] + waiting[1000:]
        if unknown:
            if time.monotonic() > deadline:
                raise RuntimeError(f"kpi-svc still misses {len(waiting)} partners")
            await asyncio.sleep(0.5)


@dataclass
class IngestFigures:
    """What the timed part measured."""

    seconds: float
    accepted: int
    latencies: list[float]


async def post_batches(
    client: httpx.AsyncClient, bodies: Sequence[bytes], sizes: Sequence[int], connections: int
) -> IngestFigures:
    """Post every batch over `connections` concurrent requests; each must be fully accepted."""
    latencies: list[float] = []
    accepted = 0

    async def post(index: int) -> None:
        nonlocal accepted
        started = time.perf_counter()
        response = await client.post(
            "/api/v1/observations",
            content=bodies[index],
            headers={"content-type": "application/json"},
        )
        latencies.append(time.perf_counter() - started)
        answer = expect(response, 200)
        if answer["accepted"] != sizes[index]:
            raise RuntimeError(f"batch {index}: {str(answer)[:300]}")
        accepted += answer["accepted"]

    started = time.perf_counter()
    await in_parallel(len(bodies), connections, post)
    return IngestFigures(time.perf_counter() - started, accepted, latencies)


RAW_COLUMNS = (
    "id", "partner_id", "kpi", "value_micro", "occurred_on", "region", "source", "batch_id",
    "recorded_at",
)  # fmt: skip


async def raw_copy(database_url: str, rows: Sequence[Row], batch_size: int, workers: int) -> float:
    """Seconds to COPY `rows` into a bare table with kpi_observations' columns (no keys, no
    indexes), one COPY per worker connection over its share of the rows: the raw limit."""
    now = datetime.now(UTC)
    records = []
    for start in range(0, len(rows), batch_size):
        batch_id = uuid.uuid4()
        records += [
            (r.id, r.partner_id, r.kpi, r.micro, r.day, r.region, SOURCE, batch_id, now)
            for r in rows[start : start + batch_size]
        ]
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "CREATE TABLE bench_raw_observations (id uuid, partner_id uuid, kpi varchar(64),"
            " value_micro bigint, occurred_on date, region varchar(64), source varchar(100),"
            " batch_id uuid, recorded_at timestamptz)"
        )
    finally:
        await conn.close()
    share = math.ceil(len(records) / workers)
    connections = [await asyncpg.connect(database_url) for _ in range(workers)]
    try:

        async def copy(index: int) -> None:
            part = records[index * share : (index + 1) * share]
            if part:
                await connections[index].copy_records_to_table(
                    "bench_raw_observations", records=part, columns=RAW_COLUMNS
                )

        started = time.perf_counter()
        await in_parallel(workers, workers, copy)
        return time.perf_counter() - started
    finally:
        for conn in connections:
            await conn.close()


async def stored_observations(database_url: str) -> tuple[int, int]:
    """Observations stored by kpi-svc and its outbox events not published yet."""
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM kpi_observations")
        backlog = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return int(stored), int(backlog)
    finally:
        await conn.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(args: argparse.Namespace, suite: Suite) -> dict[str, Any]:
    """The benchmark against a started suite; the figures."""
    headers = {"Authorization": f"Bearer {suite.keys.admin_key}"}
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections
    )
    async with httpx.AsyncClient(
        base_url=suite.gateway_url, headers=headers, timeout=120.0, limits=limits, trust_env=False
    ) as client:
        await add_definitions(client)
        step = time.perf_counter()
        partners = await register_partners(client, args.partners, args.connections, suite.run_id)
        print(f"registered {len(partners):,} partners in {time.perf_counter() - step:.1f} s")
        rows = make_rows(partners, args.observations, args.seed)
        chunks = [rows[i : i + args.batch_size] for i in range(0, len(rows), args.batch_size)]
        bodies = [encode_batch(chunk) for chunk in chunks]
        step = time.perf_counter()
        await wait_for_replica(client, partners)
        print(f"kpi-svc replica complete after {time.perf_counter() - step:.1f} s more")
        mib = sum(map(len, bodies)) / 2**20
        print(f"posting {len(rows):,} observations: {len(bodies)} batches, {mib:.0f} MiB …")
        cpu_before = {**suite.cpu_seconds(), "postgres": await suite.database_cpu_seconds()}
        client_before = time.process_time()
        figures = await post_batches(client, bodies, [len(c) for c in chunks], args.connections)
        client_cpu = time.process_time() - client_before
        cpu_after = {**suite.cpu_seconds(), "postgres": await suite.database_cpu_seconds()}
    stored, backlog = await stored_observations(suite.database_url("kpi", driver="postgresql"))
    if stored != len(rows) or figures.accepted != len(rows):
        raise RuntimeError(f"sent {len(rows)}, accepted {figures.accepted}, stored {stored}")
    copy_seconds = await raw_copy(
        suite.database_url("kpi", driver="postgresql"), rows, args.batch_size, args.connections
    )
    gateway_rate = len(rows) / figures.seconds
    # CPU per 1,000 observations, by process: what contention on a shared machine cannot blur.
    cpu_ms = {
        name: round((cpu_after[name] - cpu_before.get(name, 0.0)) * 1e6 / len(rows), 1)
        for name in cpu_after
    }
    cpu_ms["bench_client"] = round(client_cpu * 1e6 / len(rows), 1)
    raw_rate = len(rows) / copy_seconds
    return {
        "benchmark": "ingest",
        "observations": len(rows),
        "batch_size": args.batch_size,
        "connections": args.connections,
        "partners": len(partners),
        "kpis": len(KPIS),
        "kpi_workers": args.kpi_workers,
        "gateway_workers": args.gateway_workers,
        "gateway_seconds": round(figures.seconds, 3),
        "gateway_obs_per_s": round(gateway_rate),
        "raw_copy_seconds": round(copy_seconds, 3),
        "raw_copy_obs_per_s": round(raw_rate),
        "ratio": round(gateway_rate / raw_rate, 4),
        "batch_p50_ms": round(percentile(figures.latencies, 0.5) * 1000, 1),
        "batch_p95_ms": round(percentile(figures.latencies, 0.95) * 1000, 1),
        "cpu_ms_per_1000_obs": cpu_ms,
        "outbox_backlog_at_end": backlog,
        "goal_obs_per_s": GOAL_RATE,
        "goal_met": gateway_rate >= GOAL_RATE and gateway_rate / raw_rate >= GOAL_RATIO,
    }


def summary(figures: dict[str, Any]) -> str:
    """The readable lines."""
    return "\n".join(
        [
            f"through the gateway  {figures['observations']:>9,} obs  "
            f"{figures['gateway_seconds']:8.2f} s  {figures['gateway_obs_per_s']:>9,} obs/s  "
            f"(batch p50 {figures['batch_p50_ms']} ms, p95 {figures['batch_p95_ms']} ms)",
            f"raw asyncpg COPY     {figures['observations']:>9,} obs  "
            f"{figures['raw_copy_seconds']:8.2f} s  {figures['raw_copy_obs_per_s']:>9,} obs/s",
            "CPU ms per 1,000 observations: "
            + ", ".join(f"{name} {ms}" for name, ms in figures["cpu_ms_per_1000_obs"].items()),
            f"ratio {figures['ratio']:.3f} (goal ≥ {GOAL_RATIO:.3f} and ≥ {GOAL_RATE:,} obs/s: "
            f"{'met' if figures['goal_met'] else 'not met'}); "
            f"outbox events still unpublished at the end: {figures['outbox_backlog_at_end']}",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--observations", type=int, default=500_000, help="volume to post")
    parser.add_argument("--partners", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--connections", type=int, default=6, help="concurrent client requests")
    parser.add_argument("--kpi-workers", type=int, default=2, help="uvicorn workers of kpi-svc")
    parser.add_argument("--gateway-workers", type=int, default=1, help="uvicorn workers")
    parser.add_argument("--plain-server", action="store_true", help="no uvloop/httptools")
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL, help="PostgreSQL server")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after (s)")
    parser.add_argument("--keep-logs", action="store_true", help="print the processes' logs")
    args = parser.parse_args(argv)
    if args.observations < 1 or args.partners < 1 or not 1 <= args.batch_size <= 10_000:
        parser.error("--observations and --partners ≥ 1, --batch-size 1..10000")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Start the suite, run, clean up whatever happens."""
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it goes
    handle_termination()
    options = SuiteOptions(
        services=("partner", "kpi", "gateway"),
        server_url=args.server_url,
        workers={"kpi": args.kpi_workers, "gateway": args.gateway_workers},
        fast_server=not args.plain_server,
        extra_env={
            # One principal posts all batches: the per-principal limit is not what is measured.
            "GATEWAY_RATE_LIMIT_PER_SECOND": "100000",
            "GATEWAY_RATE_LIMIT_BURST": "100000",
            "GATEWAY_UPSTREAM_TIMEOUT_SECONDS": "120",
        },
    )
    try:
        with Suite(options) as suite:
            print(f"suite up: gateway {suite.gateway_url}, databases bench_{suite.run_id}_*")
            try:
                figures = asyncio.run(asyncio.wait_for(run(args, suite), args.timeout))
            except BaseException:
                for name in options.services:
                    print(f"--- {name} log (tail) ---\n{suite.tail(name)}", file=sys.stderr)
                raise
            if args.keep_logs:
                for name in options.services:
                    print(f"--- {name} log (tail) ---\n{suite.tail(name)}")
    except KeyboardInterrupt:
        print("interrupted; processes stopped and databases dropped", file=sys.stderr)
        return 130
    print(summary(figures))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
