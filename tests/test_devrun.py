"""Unit tests for scripts/devrun.py (the `make run` launcher): the parts that need no services."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "devrun.py"


def _load_devrun() -> ModuleType:
    """Import scripts/devrun.py by path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("devrun", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


devrun = _load_devrun()
plan = sys.modules["devrun_plan"]  # imported by devrun from scripts/


@pytest.fixture
def held_port() -> Iterator[int]:
    """Listen on a free port (leaving room for the four service ports above it) and yield it."""
    sockets: list[socket.socket] = []
    try:
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            if port <= 65535 - plan.MAX_OFFSET:
                sock.listen()
                yield port
                return
    finally:
        for sock in sockets:
            sock.close()


def _free_port() -> int:
    """Return a port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- ports ------------------------------------------------------------------------------------


def test_taken_port_is_reported(held_port: int) -> None:
    need = plan.PortNeed("partner-svc", held_port, "RUN_GATEWAY_PORT")

    assert plan.port_in_use(held_port)
    assert plan.taken_port_messages([need]) == [
        f"port {held_port} (partner-svc) is already in use; "
        "stop what holds it or set RUN_GATEWAY_PORT"
    ]


def test_free_port_is_not_reported() -> None:
    port = _free_port()
    need = plan.PortNeed("gateway", port, "RUN_GATEWAY_PORT")

    assert not plan.port_in_use(port)
    assert plan.taken_port_messages([need]) == []


def test_port_needs_cover_gateway_services_and_embedded_nats() -> None:
    needs = plan.port_needs(9000, 5000)

    assert [(n.label, n.port) for n in needs] == [
        ("gateway", 9000),
        ("partner-svc", 9001),
        ("kpi-svc", 9002),
        ("rebate-svc", 9003),
        ("alert-svc", 9004),
        ("nats-server", 5000),
    ]
    assert needs[-1].env_var == "RUN_NATS_PORT"
    assert all(n.env_var == "RUN_GATEWAY_PORT" for n in needs[:-1])


def test_port_needs_skip_nats_when_external() -> None:
    assert all(n.label != "nats-server" for n in plan.port_needs(8000, None))


def test_read_port_defaults_and_overrides() -> None:
    assert plan.read_port({}, "RUN_GATEWAY_PORT", 8000) == 8000
    assert plan.read_port({"RUN_GATEWAY_PORT": " 9100 "}, "RUN_GATEWAY_PORT", 8000) == 9100


@pytest.mark.parametrize("raw", ["abc", "0", "70000", "65535"])
def test_read_port_rejects_bad_values(raw: str) -> None:
    with pytest.raises(plan.DevRunError, match="RUN_GATEWAY_PORT"):
        plan.read_port({"RUN_GATEWAY_PORT": raw}, "RUN_GATEWAY_PORT", 8000, headroom=4)


def test_service_ports_follow_the_gateway_port() -> None:
    assert plan.service_ports(8000) == {
        "partner": 8001,
        "kpi": 8002,
        "rebate": 8003,
        "alert": 8004,
        "gateway": 8000,
    }


# --- database URLs ----------------------------------------------------------------------------


def test_postgres_url_is_derived_per_service() -> None:
    urls = plan.service_database_urls("postgresql://u@h:5432/channel")

    assert urls["partner"] == "postgresql+asyncpg://u@h:5432/channel_partner"
    assert urls == {
        name: f"postgresql+asyncpg://u@h:5432/channel_{name}"
        for name in ("partner", "kpi", "rebate", "alert", "gateway")
    }


def test_postgres_scheme_alias_and_password_are_kept() -> None:
    urls = plan.service_database_urls("postgres://u:s3cret@db.example:6543/sales?ssl=disable")

    assert urls["kpi"] == "postgresql+asyncpg://u:s3cret@db.example:6543/sales_kpi?ssl=disable"


def test_postgres_url_without_database_uses_channel() -> None:
    urls = plan.service_database_urls("postgresql://postgres@127.0.0.1:5432")

    assert urls["alert"] == "postgresql+asyncpg://postgres@127.0.0.1:5432/channel_alert"


def test_sqlite_defaults_without_database_url() -> None:
    urls = plan.service_database_urls(None)

    assert urls["rebate"] == "sqlite+aiosqlite:///.run/rebate.db"
    assert urls["gateway"] == "sqlite+aiosqlite:///.run/gateway.db"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_non_postgres_database_url_is_rejected(url: str) -> None:
    with pytest.raises(plan.DevRunError, match="DATABASE_URL"):
        plan.service_database_urls(url)


def test_quote_identifier() -> None:
    assert devrun.quote_identifier('odd"name') == '"odd""name"'


# --- secrets ----------------------------------------------------------------------------------


def test_secrets_are_created_once_and_reused(tmp_path: Path) -> None:
    first = plan.ensure_secrets(tmp_path)
    second = plan.ensure_secrets(tmp_path)

    assert first == second
    assert first.admin_key.startswith("csk_")
    assert len(first.jwt_key) >= 40
    assert first.jwt_key != first.admin_key
    assert (tmp_path / "jwt-key").read_text().strip() == first.jwt_key
    assert (tmp_path / "admin-key").read_text().strip() == first.admin_key
    assert (tmp_path / "admin-key").stat().st_mode & 0o777 == 0o600


def test_empty_secret_file_is_regenerated(tmp_path: Path) -> None:
    path = tmp_path / "jwt-key"
    path.write_text("\n")

    value = plan.ensure_secret(path, lambda: "fresh")

    assert value == "fresh"
    assert plan.ensure_secret(path, lambda: "other") == "fresh"


# --- process environments and commands --------------------------------------------------------


def test_service_environments() -> None:
    keys = plan.Secrets(jwt_key="jwt", admin_key="csk_admin")
    ports = plan.service_ports(8000)
    dbs = plan.service_database_urls(None)

    envs = plan.service_environments({"PATH": "/bin"}, ports, dbs, "nats://127.0.0.1:4322", keys)

    partner = envs["partner"]
    assert partner["PATH"] == "/bin"
    assert partner["PARTNER_DATABASE_URL"] == "sqlite+aiosqlite:///.run/partner.db"
    assert partner["PARTNER_NATS_URL"] == "nats://127.0.0.1:4322"
    assert partner["PARTNER_JWT_KEY"] == "jwt"
    assert "GATEWAY_BOOTSTRAP_ADMIN_KEY" not in partner
    gateway = envs["gateway"]
    assert gateway["GATEWAY_JWT_KEY"] == "jwt"
    assert gateway["GATEWAY_BOOTSTRAP_ADMIN_KEY"] == "csk_admin"
    assert gateway["GATEWAY_PARTNER_URL"] == "http://127.0.0.1:8001"
    assert gateway["GATEWAY_ALERT_URL"] == "http://127.0.0.1:8004"
    assert {env[f"{s.prefix}JWT_KEY"] for s in plan.SERVICES for env in [envs[s.name]]} == {"jwt"}


def test_local_runs_allow_loopback_webhooks_unless_told_otherwise() -> None:
    assert plan.with_local_defaults({})["ALERT_ALLOW_LOOPBACK_WEBHOOKS"] == "true"
    kept = plan.with_local_defaults({"ALERT_ALLOW_LOOPBACK_WEBHOOKS": "false", "X": "1"})
    assert kept == {"ALERT_ALLOW_LOOPBACK_WEBHOOKS": "false", "X": "1"}


def test_uvicorn_command() -> None:
    cmd = plan.uvicorn_command(plan.SERVICES[1], 8002, python="/venv/bin/python")

    assert cmd == (
        "exec /venv/bin/python -m uvicorn --factory kpi_svc.app:create_app "
        "--host 127.0.0.1 --port 8002 --no-access-log"
    )


def test_make_run_states_workers_and_uses_uvloop_and_httptools() -> None:
    cmd = plan.uvicorn_command(
        plan.GATEWAY, 8000, python="/venv/bin/python", workers=2, fast_server=True
    )

    assert cmd == (
        "exec /venv/bin/python -m uvicorn --factory gateway.app:create_app "
        "--host 127.0.0.1 --port 8000 --no-access-log "
        "--loop uvloop --http httptools --workers 2"
    )


def test_uvloop_and_httptools_are_installed() -> None:
    import httptools  # noqa: F401
    import uvloop  # noqa: F401


# --- worker counts ------------------------------------------------------------------------------


def _by_role(workers: dict[str, int]) -> tuple[int, set[int]]:
    """The gateway's count and the set of the services' counts."""
    return workers["gateway"], {workers[s.name] for s in plan.BACKENDS}


@pytest.mark.parametrize(
    ("cores", "gateway", "service"),
    [(0, 1, 1), (1, 1, 1), (2, 2, 2), (3, 3, 2), (4, 4, 2), (64, 4, 2)],
)
def test_default_workers_follow_the_cores(cores: int, gateway: int, service: int) -> None:
    workers = plan.default_workers(cores)

    assert set(workers) == {s.name for s in plan.SERVICES}
    assert _by_role(workers) == (gateway, {service})


def test_available_cores_is_what_this_process_may_use() -> None:
    assert 1 <= plan.available_cores() <= (os.cpu_count() or 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {"partner": 2, "kpi": 2, "rebate": 2, "alert": 2, "gateway": 4}),
        ("3", {"partner": 3, "kpi": 3, "rebate": 3, "alert": 3, "gateway": 3}),
        ("gateway=3,kpi=1", {"partner": 2, "kpi": 1, "rebate": 2, "alert": 2, "gateway": 3}),
        (" 1 , kpi-svc = 2 ", {"partner": 1, "kpi": 2, "rebate": 1, "alert": 1, "gateway": 1}),
    ],
)
def test_run_workers_overrides_the_defaults(raw: str, expected: dict[str, int]) -> None:
    assert plan.read_workers({"RUN_WORKERS": raw}, cores=4) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "'0' needs a whole number from 1 to 32"),
        ("33", "'33' needs a whole number"),
        ("two", "'two' needs a whole number"),
        ("gateway=", "'gateway=' needs a whole number"),
        ("nginx=2", "unknown process 'nginx' (known: partner, kpi, rebate, alert, gateway)"),
    ],
)
def test_run_workers_refuses_bad_items(raw: str, message: str) -> None:
    with pytest.raises(plan.DevRunError, match=re.escape(message)):
        plan.read_workers({"RUN_WORKERS": raw}, cores=2)


def test_workers_line_names_every_process() -> None:
    line = plan.workers_line(plan.default_workers(8), 8)

    assert line == (
        "uvicorn workers: partner-svc 2, kpi-svc 2, rebate-svc 2, alert-svc 2, gateway 4 "
        "(8 cores; RUN_WORKERS changes them)"
    )


def test_banner_shows_urls_and_key() -> None:
    text = plan.banner(8100, "csk_k")

    assert "http://127.0.0.1:8100/docs" in text
    assert 'curl -H "Authorization: Bearer csk_k" http://127.0.0.1:8100/api/v1/partners' in text


# --- the script as a whole --------------------------------------------------------------------


def test_script_exits_1_with_a_clear_line_when_a_port_is_taken(held_port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as nats_sock:
        nats_sock.bind(("127.0.0.1", 0))
        nats_sock.listen()
        nats_port = nats_sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
        env |= {"RUN_GATEWAY_PORT": str(held_port), "RUN_NATS_PORT": str(nats_port)}

        result = subprocess.run(
            [sys.executable, str(SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert (
        f"port {held_port} (gateway) is already in use; stop what holds it or set RUN_GATEWAY_PORT"
        in result.stderr.splitlines()
    )
    assert (
        f"port {nats_port} (nats-server) is already in use; stop what holds it or set RUN_NATS_PORT"
        in result.stderr.splitlines()
    )
    assert "Traceback" not in result.stderr


def test_embedded_nats_syncs_every_write_like_production(tmp_path: Path) -> None:
    proc = devrun.start_nats(_free_port(), tmp_path)
    try:
        assert "sync_interval: always" in (tmp_path / "nats.conf").read_text()
        assert (tmp_path / "nats" / "jetstream").is_dir()
        assert "Using configuration file" in (tmp_path / "nats.log").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
