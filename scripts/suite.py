"""The suite as real processes, for tests, benchmarks and fault drills.

`Suite` starts its own nats-server on a free port with a temporary store, gives every service a
fresh database — SQLite files in a temporary folder by default, or new databases
(`suite_<random>_<service>`) on a PostgreSQL server — migrates them, runs the chosen services and
the gateway as uvicorn processes on free ports (environments and commands from
scripts/devrun_plan.py), waits until they are ready, and on exit — normal, failure or Ctrl-C —
stops every process it started and drops its databases. Everything listens on loopback only.
Fault drills use `kill`/`start` on a service and `suite.nats` (a `NatsServer`) for the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from channel_common.testing import NatsServer, free_port  # noqa: E402
from devrun import migrate, quote_identifier  # noqa: E402
from devrun_plan import (  # noqa: E402
    HOST,
    SERVICES,
    Secrets,
    Service,
    new_admin_key,
    new_jwt_key,
    service_environments,
    uvicorn_command,
)

__all__ = ["ALL_SERVICES", "PREFIXES", "Suite", "SuiteOptions", "server_url_from_env"]

ALL_SERVICES = tuple(service.name for service in SERVICES)
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
BY_NAME = {service.name: service for service in SERVICES}
PREFIXES = tuple(service.prefix for service in SERVICES)


def server_url_from_env(var: str = "TEST_DATABASE_URL") -> str | None:
    """The PostgreSQL server named by `var` as a plain postgresql:// URL; None: use SQLite."""
    url = os.environ.get(var)
    if not url:
        return None
    scheme, rest = url.split("://", 1)
    if not scheme.startswith("postgres"):
        raise ValueError(f"{var} must be a postgresql:// URL, not {scheme}://")
    return f"postgresql://{rest}"


@dataclass(frozen=True)
class SuiteOptions:
    """What to start and how."""

    services: Sequence[str] = ALL_SERVICES
    server_url: str | None = None  # a postgresql:// server for the databases; None: SQLite
    workers: dict[str, int] = field(default_factory=dict)  # per service name, default 1
    fast_server: bool = True  # uvicorn --loop uvloop --http httptools
    extra_env: dict[str, str] = field(default_factory=dict)
    keep_files: bool = False  # keep the temporary folder (logs, SQLite files) after close


class Suite:
    """The suite as processes; use as a context manager."""

    def __init__(self, options: SuiteOptions) -> None:
        self.options = options
        self.run_id = secrets.token_hex(4)
        self.keys = Secrets(jwt_key=new_jwt_key(), admin_key=new_admin_key())
        self.ports = {service.name: free_port() for service in SERVICES}
        self.databases = {s.name: f"suite_{self.run_id}_{s.name}" for s in SERVICES}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.envs: dict[str, dict[str, str]] = {}
        self.created: list[str] = []
        self.nats: NatsServer | None = None
        self.temp = Path(tempfile.mkdtemp(prefix="channel-suite-"))

    @property
    def gateway_url(self) -> str:
        """Base URL of the gateway."""
        return f"http://{HOST}:{self.ports['gateway']}"

    @property
    def nats_url(self) -> str:
        """The URL of the suite's own nats-server."""
        assert self.nats is not None, "the suite is not started"
        return self.nats.url

    @property
    def admin_headers(self) -> dict[str, str]:
        """Headers that authenticate as the bootstrap admin key at the gateway."""
        return {"Authorization": f"Bearer {self.keys.admin_key}"}

    def client(self, timeout: float = 30.0) -> httpx.AsyncClient:
        """An HTTP client on the gateway, authenticated as the admin key."""
        return httpx.AsyncClient(
            base_url=self.gateway_url, headers=self.admin_headers, timeout=timeout, trust_env=False
        )

    def database_url(self, service: str, *, driver: str | None = None) -> str:
        """The URL of a service's database (driver `postgresql` for asyncpg itself)."""
        if self.options.server_url is None:
            return f"{driver or 'sqlite+aiosqlite'}:///{self.temp / f'{service}.db'}"
        base = _parse(self.options.server_url)
        return f"{driver or 'postgresql+asyncpg'}://{base.userinfo}{base.hostport}/{self.databases[service]}"

    def log_path(self, service: str) -> Path:
        """Where a process's output goes."""
        return self.temp / f"{service}.log"

    def __enter__(self) -> Suite:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _start(self) -> None:
        self.nats = NatsServer(self.temp / "nats")
        self.nats.start()
        if self.options.server_url is not None:
            asyncio.run(self._create_databases(self.options.server_url))
        database_urls = {s.name: self.database_url(s.name) for s in SERVICES}
        # The caller's own service settings must not leak into the run; extra_env sets them.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(PREFIXES)}
        base_env = {**inherited, **self.options.extra_env}
        self.envs = service_environments(
            base_env, self.ports, database_urls, self.nats.url, self.keys
        )
        wanted = [BY_NAME[name] for name in self.options.services]
        migrate(wanted, self.envs)
        for service in wanted:
            self._spawn(service)
        self._wait_ready(wanted)

    def kill(self, service: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send a signal to a service's process group (SIGKILL: it dies at once)."""
        process = self.processes[service]
        _signal_group(process, sig, service)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            process.wait(STOP_TIMEOUT)

    def start(self, service: str) -> None:
        """(Re)start a service on its port with its environment; returns once it is ready."""
        self._spawn(BY_NAME[service])
        self._wait_ready([BY_NAME[service]])

    async def _create_databases(self, server_url: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            for service in self.options.services:
                name = self.databases[service]
                await conn.execute(f"CREATE DATABASE {quote_identifier(name)}")
                self.created.append(name)
        finally:
            await conn.close()

    def _spawn(self, service: Service) -> None:
        # Always an explicit worker count: a WEB_CONCURRENCY in the caller's shell must not
        # turn a one-process service into several.
        command = uvicorn_command(
            service,
            self.ports[service.name],
            workers=self.options.workers.get(service.name, 1),
            fast_server=self.options.fast_server,
        )
        argv = shlex.split(command)[1:]  # no `exec`
        with self.log_path(service.name).open("ab") as log:
            # A session of its own: the whole group (uvicorn's workers too) stops by its id.
            self.processes[service.name] = subprocess.Popen(  # noqa: S603 (fixed argv)
                argv, cwd=ROOT, env=self.envs[service.name], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def _wait_ready(self, services: Sequence[Service]) -> None:
        # The gateway's /readyz asks every upstream, also those not started: /livez for it.
        probes = {
            s.name: f"http://{HOST}:{self.ports[s.name]}/"
            + ("livez" if s.name == "gateway" else "readyz")
            for s in services
        }
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while probes:
                for name, url in list(probes.items()):
                    process = self.processes[name]
                    if process.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited with code {process.returncode}:\n{self.tail(name)}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(url).status_code == 200:
                            del probes[name]
                if probes and time.monotonic() > deadline:
                    raise RuntimeError(f"not ready after {READY_TIMEOUT:.0f} s: {sorted(probes)}")
                time.sleep(0.2)

    def check_alive(self) -> None:
        """Fail with the log tail of any started service that has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with code {process.returncode}:\n{self.tail(name)}"
                )

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each started service (uvicorn and its workers)."""
        groups = {process.pid: name for name, process in self.processes.items()}
        used = dict.fromkeys(self.processes, 0.0)
        for _pid, pgid, seconds in _all_processes():
            if pgid in groups:
                used[groups[pgid]] += seconds
        return used

    async def database_cpu_seconds(self) -> float:
        """CPU time used so far by the PostgreSQL backends serving this run's databases."""
        if self.options.server_url is None:
            return 0.0
        conn = await asyncpg.connect(self.options.server_url)
        try:
            records = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                list(self.created),
            )
        finally:
            await conn.close()
        wanted = {record["pid"] for record in records}
        return sum(seconds for pid, _, seconds in _all_processes() if pid in wanted)

    def tail(self, service: str, lines: int = 30) -> str:
        """The end of a process's output."""
        try:
            text = self.log_path(service).read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        """Stop every process started here, the nats-server, and drop the databases."""
        for name, process in self.processes.items():
            _signal_group(process, signal.SIGTERM, name)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in self.processes.items():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL, name)
                process.wait()
        self.processes.clear()
        if self.nats is not None:
            try:
                self.nats.stop()
            except subprocess.TimeoutExpired:
                if self.nats.process is not None:
                    self.nats.process.kill()
            self.nats = None
        if self.created and self.options.server_url is not None:
            asyncio.run(self._drop_databases(self.options.server_url))
        if self.options.keep_files:
            print(f"kept {self.temp}", file=sys.stderr)
        else:
            shutil.rmtree(self.temp, ignore_errors=True)

    async def _drop_databases(self, server_url: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            for name in self.created:
                await conn.execute(f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)")
        finally:
            await conn.close()
        self.created.clear()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals, name: str) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)  # the group this process leads (start_new_session)
    except ProcessLookupError:
        pass
    except PermissionError:
        print(f"cannot signal {name} (pid {process.pid})", file=sys.stderr)


def _all_processes() -> Iterator[tuple[int, int, float]]:
    """(pid, process group, CPU seconds) of every process this user may read (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # After the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
        # cmajflt utime stime (fields 3.., see proc(5)).
        yield int(entry.name), int(fields[2]), (int(fields[11]) + int(fields[12])) / tick


@dataclass(frozen=True)
class _ServerParts:
    userinfo: str
    hostport: str


def _parse(url: str) -> _ServerParts:
    """`user[:password]@` and `host:port` of a postgresql:// URL."""
    rest = url.split("://", 1)[1].split("/", 1)[0]
    userinfo, _, hostport = rest.rpartition("@")
    return _ServerParts(userinfo=f"{userinfo}@" if userinfo else "", hostport=hostport)
