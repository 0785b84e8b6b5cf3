"""Request-plane benchmark: reads per second and their latency, each direct to the service and
through the gateway, at several connection counts, with the gateway's `/livez` as the ceiling.

    make bench                                                 # SQLite, then PostgreSQL
    .venv/bin/python bench/http_reads.py                       # SQLite files, the defaults
    .venv/bin/python bench/http_reads.py --server-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/http_reads.py --connections 8 --duration 30

The suite runs as real processes (bench/common.py): its own nats-server, partner-svc, kpi-svc and
the gateway under uvicorn on free loopback ports, on SQLite files or fresh PostgreSQL databases.
Through the gateway with the bootstrap admin key it registers partners (one is read by id, the
first 50 are the list page) and 24 monthly `sales_amount` observations of the first partner.
Then `wrk -t1 -c<N> -d<secs>s --latency` measures, for every N: a partner by id, a page of 50
partners, a 24-month KPI series (each direct with a service JWT and through the gateway with
the admin key) and the gateway's `/livez`. The file is not named http.py: in bench/ that name
would shadow the standard library's `http` for every script here. The last line printed is one
JSON object with every figure and the command.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from channel_common import BaseServiceSettings, issue_token

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Suite, SuiteOptions, expect, handle_termination
from wrk_runner import run_wrk

SERVICES = ("partner", "kpi", "gateway")
MONTHS = 24
PAGE = 50
REPLICA_TIMEOUT = 60.0
ENDPOINTS = ("partner_by_id", "partners_page", "kpi_series", "livez")


@dataclass(frozen=True)
class Target:
    """One URL to load, with the headers it needs and how many items a good answer holds."""

    endpoint: str
    path: str  # "direct" or "gateway"
    url: str
    headers: dict[str, str]
    items: int | None = None  # a list page or series: the expected length


def month_starts(count: int, last: date) -> list[date]:
    """The first days of the `count` months ending with `last`'s month, oldest first."""
    index = last.year * 12 + last.month - 1
    return [date((index - k) // 12, (index - k) % 12 + 1, 1) for k in reversed(range(count))]


def seed(client: httpx.Client, partners: int, run_id: str) -> tuple[str, list[date]]:
    """Register the partners and the first one's monthly sales; its id and the months."""
    ids = []
    for index in range(partners):
        body = {"code": f"H{run_id}-{index:04d}", "name": f"Bench partner {index}",
                "type": "reseller", "region": "CN-GD-SZ"}  # fmt: skip
        ids.append(expect(client.post("/api/v1/partners", json=body), 201)["id"])
    months = month_starts(MONTHS, date.today())
    items = [
        {"partner_id": ids[0], "kpi": "sales_amount", "value": f"{10_000 + 250 * i}.50",
         "occurred_on": day.isoformat()}
        for i, day in enumerate(months)
    ]  # fmt: skip
    deadline = time.monotonic() + REPLICA_TIMEOUT
    while True:  # until kpi-svc's replica knows the partner (events over NATS)
        answer = expect(client.post("/api/v1/observations", json={"observations": items}), 200)
        codes = {r["code"] for r in answer["rejected"]}
        if answer["accepted"] == len(items):
            return ids[0], months
        if codes != {"unknown_partner"} or time.monotonic() > deadline:
            raise RuntimeError(f"observations not stored: {str(answer)[:300]}")
        time.sleep(0.3)


def targets(suite: Suite, partner_id: str, months: Sequence[date], ttl: int) -> list[Target]:
    """Every URL measured, in the order of a round."""
    defaults = BaseServiceSettings.model_fields  # the suite sets only the key
    token = issue_token(
        key=suite.keys.jwt_key,
        algorithm=defaults["jwt_algorithm"].default,
        issuer=defaults["jwt_issuer"].default,
        audience=defaults["jwt_audience"].default,
        subject="bench",
        scopes=["admin"],
        ttl_seconds=ttl,
    )
    direct = {"Authorization": f"Bearer {token}"}
    series = (
        f"/api/v1/kpis/sales_amount/series?partner_id={partner_id}&granularity=month"
        f"&from={months[0]:%Y-%m}&to={months[-1]:%Y-%m}"
    )
    reads = [
        ("partner_by_id", "partner", f"/api/v1/partners/{partner_id}", None),
        ("partners_page", "partner", f"/api/v1/partners?limit={PAGE}", PAGE),
        ("kpi_series", "kpi", series, len(months)),
    ]
    found = []
    for endpoint, service, path, items in reads:
        base = f"http://127.0.0.1:{suite.ports[service]}"
        found.append(Target(endpoint, "direct", base + path, direct, items))
        gateway = suite.gateway_url + path
        found.append(Target(endpoint, "gateway", gateway, suite.admin_headers, items))
    return [*found, Target("livez", "gateway", f"{suite.gateway_url}/livez", {})]


def check(target: Target) -> None:
    """One request answers 200 with what the run seeded; fail loudly otherwise."""
    with httpx.Client(headers=target.headers, timeout=30.0, trust_env=False) as client:
        body = expect(client.get(target.url), 200)
    if target.items is not None:
        got = len(body["items"] if isinstance(body, dict) else body)
        if got != target.items:
            raise RuntimeError(f"{target.url}: {got} items, expected {target.items}")


def measure(args: argparse.Namespace, suite: Suite, plan: Sequence[Target]) -> list[dict[str, Any]]:
    """Every target at every connection count; connection counts outermost, so a drift in the
    machine's load hits every target of a count alike."""
    rows = []
    for connections in args.connections:
        for target in plan:
            cpu_before = suite.cpu_seconds()
            result = run_wrk(
                target.url, connections=connections, seconds=args.duration, headers=target.headers
            )
            cpu_after = suite.cpu_seconds()
            per_request = 1e6 / max(result.requests, 1)
            cpu = {
                name: round((cpu_after[name] - cpu_before[name]) * per_request)
                for name in cpu_after
            }
            cpu["wrk"] = round(result.client_cpu_s * per_request)
            figures = asdict(result)
            del figures["client_cpu_s"]
            where = {"endpoint": target.endpoint, "path": target.path, "connections": connections}
            rows.append({**where, **figures, "cpu_us_per_request": cpu})
            print(
                f"  {target.endpoint:<14} {target.path:<8} c={connections:<3} "
                f"{result.req_per_s:9.1f} req/s  p99 {result.p99_ms:.1f} ms"
            )
    add_ratios(rows)
    return rows


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Each row's rate against the direct path of its endpoint and against /livez."""
    rate = {(r["endpoint"], r["path"], r["connections"]): r["req_per_s"] for r in rows}
    for row in rows:
        direct = rate.get((row["endpoint"], "direct", row["connections"]))
        livez = rate.get(("livez", "gateway", row["connections"]))
        gateway = row["path"] == "gateway" and direct
        row["gateway_over_direct"] = round(row["req_per_s"] / direct, 3) if gateway else None
        row["over_livez"] = round(row["req_per_s"] / livez, 3) if livez else None


def goals(rows: Sequence[dict[str, Any]]) -> dict[str, bool] | None:
    """DESIGN.md §11 "Request plane", judged at 8 connections (None when 8 was not measured)."""
    at8 = {(r["endpoint"], r["path"]): r for r in rows if r["connections"] == 8}
    if not at8:
        return None
    by_id = at8[("partner_by_id", "gateway")]
    reads = [r for (endpoint, _), r in at8.items() if endpoint != "livez"]
    return {
        "by_id_gateway_600_req_s": by_id["req_per_s"] >= 600,
        "by_id_gateway_p99_25_ms": by_id["p99_ms"] <= 25,
        "by_id_gateway_30pct_of_livez": by_id["over_livez"] >= 0.30,
        "by_id_gateway_65pct_of_direct": by_id["gateway_over_direct"] >= 0.65,
        "page_and_series_gateway_300_req_s": all(
            at8[(e, "gateway")]["req_per_s"] >= 300 for e in ("partners_page", "kpi_series")
        ),
        "reads_p99_within_3x_p50": all(r["p99_ms"] <= 3 * r["p50_ms"] for r in reads),
    }


def ratio(value: float | None) -> str:
    """A ratio for the table, or a dash."""
    return "—" if value is None else f"{value:.2f}"


def summary(figures: dict[str, Any]) -> str:
    """The readable table."""
    lines = [
        f"{figures['store']}, {figures['duration_s']} s per row, wrk -t1; "
        "cpu = µs of CPU per request (gateway/partner/kpi/wrk)",
        f"{'endpoint':<14} {'path':<8} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'gw/direct':>9} {'/livez':>7}  cpu",
    ]
    order = {endpoint: index for index, endpoint in enumerate(ENDPOINTS)}
    rows = sorted(
        figures["rows"], key=lambda r: (order[r["endpoint"]], r["path"], r["connections"])
    )
    for row in rows:
        cpu = row["cpu_us_per_request"]
        lines.append(
            f"{row['endpoint']:<14} {row['path']:<8} {row['connections']:>5} "
            f"{row['req_per_s']:>9,.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{ratio(row['gateway_over_direct']):>9} {ratio(row['over_livez']):>7}  "
            + "/".join(str(cpu.get(n, "-")) for n in ("gateway", "partner", "kpi", "wrk"))
            + (f"  ({row['errors']} errors)" if row["errors"] else "")
        )
    if figures["goals"] is not None:
        met = [name for name, ok in figures["goals"].items() if ok]
        missed = [name for name, ok in figures["goals"].items() if not ok]
        lines.append(
            f"goals at 8 connections — met: {', '.join(met) or 'none'}; "
            f"missed: {', '.join(missed) or 'none'}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--server-url", help="a postgresql:// server (default: SQLite files)")
    parser.add_argument("--connections", default="1,8,32", help="comma-separated, e.g. 1,8,32")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--partners", type=int, default=60, help=f"registered (≥ {PAGE})")
    parser.add_argument("--gateway-workers", type=int, default=1, help="uvicorn workers")
    parser.add_argument("--service-workers", type=int, default=1, help="partner-svc, kpi-svc")
    parser.add_argument("--plain-server", action="store_true", help="no uvloop/httptools")
    parser.add_argument("--keep-logs", action="store_true", help="print the processes' logs")
    args = parser.parse_args(argv)
    try:
        args.connections = [int(n) for n in args.connections.split(",")]
    except ValueError:
        parser.error("--connections takes numbers separated by commas")
    if min(args.connections) < 1 or args.duration < 1 or args.partners < PAGE:
        parser.error(f"--connections and --duration ≥ 1, --partners ≥ {PAGE}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Start the suite, seed, measure, clean up whatever happens."""
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it goes
    handle_termination()
    workers = {"partner": args.service_workers, "kpi": args.service_workers}
    # One principal sends every request: the per-principal limit is not what is measured.
    unlimited = {"GATEWAY_RATE_LIMIT_PER_SECOND": "1000000", "GATEWAY_RATE_LIMIT_BURST": "1000000"}
    options = SuiteOptions(
        services=SERVICES,
        server_url=args.server_url,
        workers={**workers, "gateway": args.gateway_workers},
        fast_server=not args.plain_server,
        extra_env=unlimited,
    )
    ttl = len(args.connections) * 7 * (args.duration + 60) + 600
    try:
        with Suite(options) as suite:
            print(f"suite up: gateway {suite.gateway_url}, run {suite.run_id}")
            try:
                gateway = httpx.Client(
                    base_url=suite.gateway_url,
                    headers=suite.admin_headers,
                    timeout=30,
                    trust_env=False,
                )
                with gateway:
                    partner_id, months = seed(gateway, args.partners, suite.run_id)
                plan = targets(suite, partner_id, months, ttl)
                for target in plan:
                    check(target)
                print(f"seeded {args.partners} partners and {len(months)} months; measuring …")
                rows = measure(args, suite, plan)
            except BaseException:
                for name in SERVICES:
                    print(f"--- {name} log (tail) ---\n{suite.tail(name)}", file=sys.stderr)
                raise
            if args.keep_logs:
                for name in SERVICES:
                    print(f"--- {name} log (tail) ---\n{suite.tail(name)}")
    except KeyboardInterrupt:
        print("interrupted; processes stopped and databases dropped", file=sys.stderr)
        return 130
    figures = {
        "benchmark": "http_reads",
        "store": "postgresql" if args.server_url else "sqlite",
        "duration_s": args.duration,
        "connections": args.connections,
        "gateway_workers": args.gateway_workers,
        "service_workers": args.service_workers,
        "rows": rows,
        "goals": goals(rows),
        "command": shlex.join([".venv/bin/python", "bench/http_reads.py", *sys.argv[1:]]),
    }
    print(summary(figures))
    print(json.dumps(figures))
    errors = sum(row["errors"] for row in rows)
    if errors:
        print(f"{errors} requests failed (non-2xx or socket errors); see the rows", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
