"""The alert-latency benchmark's figures: percentiles, stages, stored timestamps, the summary."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common import Suite
from webhook_receiver import Receiver

GOAL_P99_MS = 250.0


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending sequence (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Sent:
    """One ingest request's outcome."""

    partner_id: str
    mono_2xx: float
    wall_2xx: float
    request_ms: float


def parse_time(value: str | None) -> float | None:
    """An ISO 8601 timestamp as epoch seconds."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def summarise(
    sent: Sequence[Sent], receiver: Receiver, args: argparse.Namespace, problems: Sequence[str]
) -> dict[str, Any]:
    """Latency percentiles, the stage split and the counts."""
    latencies: list[float] = []
    to_evaluated: list[float] = []
    to_arrival: list[float] = []
    request_ms = sorted(s.request_ms for s in sent)
    missing = 0
    with receiver.lock:
        arrivals = dict(receiver.arrivals)
    for item in sent:
        arrival = arrivals.get(item.partner_id)
        if arrival is None:
            missing += 1
            continue
        latencies.append((arrival.mono - item.mono_2xx) * 1000)
        started = parse_time(arrival.started_at)
        if started is not None:
            to_evaluated.append((started - item.wall_2xx) * 1000)
            to_arrival.append((arrival.wall - started) * 1000)
    latencies.sort()
    to_evaluated.sort()
    to_arrival.sort()

    def stats(values: Sequence[float]) -> dict[str, float | None]:
        def r(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 1)

        return {
            "p50_ms": r(percentile(values, 50)),
            "p90_ms": r(percentile(values, 90)),
            "p99_ms": r(percentile(values, 99)),
            "max_ms": r(values[-1] if values else math.nan),
        }

    overall = stats(latencies)
    p99 = overall["p99_ms"]
    return {
        "bench": "alert_latency",
        "alerts": args.alerts,
        "ingested": len(sent),
        "delivered": len(latencies),
        "missing": missing + (args.alerts - len(sent)),
        "ingest_problems": len(problems),
        "bad_signatures": receiver.bad_signatures,
        "duplicate_deliveries": receiver.duplicates,
        **overall,
        "mean_ms": round(sum(latencies) / len(latencies), 1) if latencies else None,
        "goal_p99_ms": GOAL_P99_MS,
        "meets_goal": p99 is not None and p99 <= GOAL_P99_MS and missing == 0,
        "stages": {
            "ingest_2xx_to_evaluated": stats(to_evaluated),
            "evaluated_to_arrival": stats(to_arrival),
        },
        "ingest_request": stats(request_ms),
        "database": "postgresql" if args.database_url else "sqlite",
        "concurrency": args.concurrency,
        "webhook_poll_seconds": args.webhook_poll,
        "env": list(args.env),
        "command": shlex.join([".venv/bin/python", "bench/alert_latency.py", *sys.argv[1:]]),
    }


def _epoch(value: Any) -> float | None:
    """A stored timestamp (datetime, or SQLite's text) as epoch seconds, naive = UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _stats(values: list[float]) -> dict[str, float | None]:
    values.sort()

    def r(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 1)

    return {
        "p50_ms": r(percentile(values, 50)),
        "p90_ms": r(percentile(values, 90)),
        "p99_ms": r(percentile(values, 99)),
        "max_ms": r(values[-1] if values else math.nan),
    }


async def stored_stages(suite: Suite, since: float) -> dict[str, Any]:
    """The path of each `kpi.aggregates.updated.v1` event from the stored rows: kpi-svc's
    outbox (created_at = ingest transaction, sent_at = relay published) and alert-svc's inbox
    (processed_at = the consumer started on it), matched by event id."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def rows(url: str, query: str) -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(query))).all())
        finally:
            await engine.dispose()

    outbox = await rows(
        suite.database_url("kpi"),
        "SELECT event_id, created_at, sent_at FROM outbox "
        "WHERE subject = 'kpi.aggregates.updated.v1'",
    )
    inbox = await rows(
        suite.database_url("alert"),
        "SELECT event_id, processed_at FROM inbox WHERE consumer = 'alert-svc-aggregates'",
    )
    consumed = {r[0]: _epoch(r[1]) for r in inbox}
    relay: list[float] = []
    to_consumer: list[float] = []
    for event_id, created_at, sent_at in outbox:
        created, sent = _epoch(created_at), _epoch(sent_at)
        if created is None or created < since:
            continue
        if sent is not None:
            relay.append((sent - created) * 1000)
            started = consumed.get(event_id)
            if started is not None:
                to_consumer.append((started - sent) * 1000)
    return {
        "events": len(relay),
        "kpi_outbox_created_to_sent": _stats(relay),
        "kpi_sent_to_alert_consumer_start": _stats(to_consumer),
    }


def readable(result: Mapping[str, Any]) -> str:
    """The summary for humans."""

    def line(label: str, s: Mapping[str, Any]) -> str:
        return (
            f"  {label:<26} p50 {s['p50_ms']} ms, p90 {s['p90_ms']} ms, "
            f"p99 {s['p99_ms']} ms, max {s['max_ms']} ms"
        )

    verdict = "meets" if result["meets_goal"] else "MISSES"
    return "\n".join(
        [
            f"alert latency (ingest 2xx -> webhook arrival), {result['database']}, "
            f"concurrency {result['concurrency']}, webhook poll {result['webhook_poll_seconds']} s",
            f"  alerts {result['alerts']}: delivered {result['delivered']}, "
            f"missing {result['missing']}, bad signatures {result['bad_signatures']}, "
            f"duplicates {result['duplicate_deliveries']}",
            line("latency", result),
            line("  2xx -> evaluated", result["stages"]["ingest_2xx_to_evaluated"]),
            line("  evaluated -> arrival", result["stages"]["evaluated_to_arrival"]),
            line("ingest request", result["ingest_request"]),
            *(
                [
                    f"  stored rows ({stored['events']} aggregate events):",
                    line("  kpi outbox created -> sent", stored["kpi_outbox_created_to_sent"]),
                    line("  sent -> alert consumer", stored["kpi_sent_to_alert_consumer_start"]),
                ]
                if (stored := result.get("stored_stages"))
                else []
            ),
            f"  cpu share of one core over {result['measured_seconds']} s "
            f"({result['cpu_cores']} cores): "
            + ", ".join(f"{k} {v}" for k, v in result["cpu_share"].items()),
            f"  goal p99 <= {GOAL_P99_MS:.0f} ms: {verdict}",
            f"  command: {result['command']}",
        ]
    )
