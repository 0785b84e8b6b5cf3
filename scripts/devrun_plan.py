"""What `make run` will start, worked out without side effects: services, ports, secrets,
database URLs, worker counts and each process's environment (scripts/devrun.py starts them)."""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
BIN_DIR = Path(sys.executable).parent
HOST = "127.0.0.1"

DEFAULT_GATEWAY_PORT = 8000
DEFAULT_NATS_PORT = 4322
NATS_START_TIMEOUT = 10.0
READY_TIMEOUT = 60.0
DEFAULT_PG_DATABASE = "channel"
# What a local run sets unless the environment says otherwise: alert webhooks may go to a
# receiver on this machine (`channelctl demo`, `channelctl webhooks listen`). Deployments and
# the test suite keep alert-svc's default, which refuses loopback URLs.
LOCAL_RUN_DEFAULTS = {"ALERT_ALLOW_LOOPBACK_WEBHOOKS": "true"}
# uvicorn workers per process by default (default_workers): the caps bound memory and, on
# SQLite, the number of processes queueing for each file's write lock.
MAX_GATEWAY_WORKERS = 4
MAX_SERVICE_WORKERS = 2
MAX_WORKERS = 32  # what RUN_WORKERS accepts


class DevRunError(Exception):
    """A problem the user can fix; printed as one line without a traceback."""


@dataclass(frozen=True)
class Service:
    """One process of the suite and how to run it."""

    name: str
    label: str
    directory: str
    package: str
    prefix: str
    port_offset: int


SERVICES: tuple[Service, ...] = (
    Service("partner", "partner-svc", "services/partner-svc", "partner_svc", "PARTNER_", 1),
    Service("kpi", "kpi-svc", "services/kpi-svc", "kpi_svc", "KPI_", 2),
    Service("rebate", "rebate-svc", "services/rebate-svc", "rebate_svc", "REBATE_", 3),
    Service("alert", "alert-svc", "services/alert-svc", "alert_svc", "ALERT_", 4),
    Service("gateway", "gateway", "services/gateway", "gateway", "GATEWAY_", 0),
)
GATEWAY = SERVICES[-1]
BACKENDS = SERVICES[:-1]
MAX_OFFSET = max(s.port_offset for s in SERVICES)


class PortNeed(NamedTuple):
    """A port the run needs, who needs it and which variable moves it."""

    label: str
    port: int
    env_var: str


class Secrets(NamedTuple):
    """The secrets kept in ``.run/`` between runs."""

    jwt_key: str
    admin_key: str


# --- pure helpers -------------------------------------------------------------------------------


def read_port(env: Mapping[str, str], var: str, default: int, headroom: int = 0) -> int:
    """Return the port in ``env[var]`` (or ``default``), leaving ``headroom`` ports above it."""
    raw = env.get(var, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise DevRunError(f"{var}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535 - headroom:
        raise DevRunError(f"{var}={port} is out of range (1-{65535 - headroom})")
    return port


def service_ports(gateway_port: int) -> dict[str, int]:
    """Map each service name to its port: the gateway's port plus the service's offset."""
    return {s.name: gateway_port + s.port_offset for s in SERVICES}


def port_needs(gateway_port: int, nats_port: int | None) -> list[PortNeed]:
    """List every port the run will bind (the NATS port only when NATS is embedded)."""
    needs = [
        PortNeed(s.label, gateway_port + s.port_offset, "RUN_GATEWAY_PORT")
        for s in sorted(SERVICES, key=lambda s: s.port_offset)
    ]
    if nats_port is not None:
        needs.append(PortNeed("nats-server", nats_port, "RUN_NATS_PORT"))
    return needs


def port_in_use(port: int, host: str = HOST) -> bool:
    """Tell whether ``port`` cannot be bound on ``host`` (as a server with SO_REUSEADDR would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def taken_port_messages(needs: Iterable[PortNeed], host: str = HOST) -> list[str]:
    """Return one human-readable line for each needed port that is already taken."""
    return [
        f"port {need.port} ({need.label}) is already in use; "
        f"stop what holds it or set {need.env_var}"
        for need in needs
        if port_in_use(need.port, host)
    ]


def new_jwt_key() -> str:
    """Generate the shared HS256 signing secret."""
    return secrets.token_urlsafe(32)


def new_admin_key() -> str:
    """Generate a plaintext API key in the suite's ``csk_`` format."""
    return "csk_" + secrets.token_urlsafe(32)


def ensure_secret(path: Path, generate: Callable[[], str]) -> str:
    """Return the secret stored in ``path``, creating it (mode 0600) on first use."""
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    value = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def ensure_secrets(run_dir: Path) -> Secrets:
    """Load (or create once) the JWT key and the bootstrap admin key under ``run_dir``."""
    return Secrets(
        jwt_key=ensure_secret(run_dir / "jwt-key", new_jwt_key),
        admin_key=ensure_secret(run_dir / "admin-key", new_admin_key),
    )


def normalise_postgres_url(url: str) -> URL:
    """Parse a PostgreSQL URL and switch its driver to asyncpg."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DevRunError("DATABASE_URL is not a valid database URL") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise DevRunError(
            f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), not {parsed.drivername}://"
        )
    return parsed.set(drivername="postgresql+asyncpg")


def sqlite_url(name: str) -> str:
    """Return the default SQLite URL of a service (relative to the repository root)."""
    return f"sqlite+aiosqlite:///.run/{name}.db"


def postgres_database_urls(database_url: str) -> dict[str, URL]:
    """Derive one asyncpg URL per service, naming each database ``<dbname>_<service>``."""
    base = normalise_postgres_url(database_url)
    prefix = base.database or DEFAULT_PG_DATABASE
    return {s.name: base.set(database=f"{prefix}_{s.name}") for s in SERVICES}


def service_database_urls(database_url: str | None) -> dict[str, str]:
    """Map each service name to its database URL: PostgreSQL if given, else SQLite files."""
    if not database_url:
        return {s.name: sqlite_url(s.name) for s in SERVICES}
    return {
        name: url.render_as_string(hide_password=False)
        for name, url in postgres_database_urls(database_url).items()
    }


def with_local_defaults(env: Mapping[str, str]) -> dict[str, str]:
    """`env` plus LOCAL_RUN_DEFAULTS for the variables it does not set."""
    return {**LOCAL_RUN_DEFAULTS, **env}


def service_environments(
    base_env: Mapping[str, str],
    ports: Mapping[str, int],
    database_urls: Mapping[str, str],
    nats_url: str,
    keys: Secrets,
) -> dict[str, dict[str, str]]:
    """Build each process's environment: ``base_env`` plus its prefixed settings."""
    envs: dict[str, dict[str, str]] = {}
    for service in SERVICES:
        env = dict(base_env)
        env["PYTHONUNBUFFERED"] = "1"
        env[f"{service.prefix}DATABASE_URL"] = database_urls[service.name]
        env[f"{service.prefix}NATS_URL"] = nats_url
        env[f"{service.prefix}JWT_KEY"] = keys.jwt_key
        envs[service.name] = env
    gateway_env = envs[GATEWAY.name]
    for backend in BACKENDS:
        var = f"GATEWAY_{backend.name.upper()}_URL"
        gateway_env[var] = f"http://{HOST}:{ports[backend.name]}"
    gateway_env["GATEWAY_BOOTSTRAP_ADMIN_KEY"] = keys.admin_key
    return envs


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(cores: int) -> dict[str, int]:
    """uvicorn workers per process for ``cores`` cores: one per core, at most 2 for a service and
    4 for the gateway (every request passes it). A read mostly loads one service, and a process
    uses one core at most: its workers let it use the others."""
    cores = max(cores, 1)
    return {
        s.name: min(cores, MAX_GATEWAY_WORKERS if s is GATEWAY else MAX_SERVICE_WORKERS)
        for s in SERVICES
    }


def _worker_count(text: str, item: str) -> int:
    """One count of ``RUN_WORKERS``, checked."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_WORKERS:
        raise DevRunError(f"RUN_WORKERS item {item!r} needs a whole number from 1 to {MAX_WORKERS}")
    return count


def read_workers(env: Mapping[str, str], cores: int) -> dict[str, int]:
    """uvicorn workers per process: ``default_workers(cores)`` changed by ``RUN_WORKERS``, a
    comma-separated list of a number (every process) and ``name=number`` items (``gateway=2``,
    ``kpi=2`` or ``kpi-svc=2``), e.g. ``RUN_WORKERS=1`` or ``RUN_WORKERS=1,gateway=2``."""
    workers = default_workers(cores)
    names = {s.name: s.name for s in SERVICES} | {s.label: s.name for s in SERVICES}
    for item in (part.strip() for part in env.get("RUN_WORKERS", "").split(",")):
        if not item:
            continue
        name, equals, count = item.rpartition("=")
        if not equals:
            workers = dict.fromkeys(workers, _worker_count(count, item))
        elif name.strip() in names:
            workers[names[name.strip()]] = _worker_count(count, item)
        else:
            known = ", ".join(s.name for s in SERVICES)
            raise DevRunError(f"RUN_WORKERS names an unknown process {name!r} (known: {known})")
    return workers


def uvicorn_command(
    service: Service,
    port: int,
    python: str = sys.executable,
    *,
    workers: int | None = None,
    fast_server: bool = False,
) -> str:
    """Return the shell command honcho runs for ``service``: with ``workers``, that many uvicorn
    workers (else uvicorn's default, ``$WEB_CONCURRENCY`` or 1); with ``fast_server``, uvloop and
    httptools (both come with ``uvicorn[standard]``)."""
    argv = [
        python,
        "-m",
        "uvicorn",
        "--factory",
        f"{service.package}.app:create_app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
    ]
    if fast_server:
        argv += ["--loop", "uvloop", "--http", "httptools"]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return "exec " + shlex.join(argv)


def workers_line(workers: Mapping[str, int], cores: int) -> str:
    """One line saying how many uvicorn workers each process runs, and why."""
    counts = ", ".join(f"{s.label} {workers[s.name]}" for s in SERVICES)
    return f"uvicorn workers: {counts} ({cores} cores; RUN_WORKERS changes them)"


def banner(gateway_port: int, admin_key: str) -> str:
    """Return the text shown once the gateway is ready."""
    url = f"http://{HOST}:{gateway_port}"
    rule = "=" * 72
    return "\n".join(
        [
            rule,
            "Channel Suite is running",
            f"  gateway    {url}",
            f"  API docs   {url}/docs",
            f"  admin key  {admin_key}",
            "  try:",
            f'    curl -H "Authorization: Bearer {admin_key}" {url}/api/v1/partners',
            "  (data and keys persist in .run/; Ctrl-C stops everything)",
            rule,
        ]
    )
