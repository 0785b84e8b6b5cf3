"""The five apps of the suite, built in-process for the battery: settings on a fresh database,
an unreachable NATS (HTTP only, no other test's events), and the test signing key."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channel_common import BaseServiceSettings
from channel_common.testing import TEST_JWT_KEY, free_port, fresh_database_url
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("partner", "kpi", "rebate", "alert", "gateway")


@dataclass(frozen=True)
class Service:
    """One service of the suite: its name, settings and a fresh app."""

    name: str
    settings: BaseServiceSettings
    app: FastAPI


def _package(name: str) -> tuple[str, Path]:
    if name == "gateway":
        return "gateway", ROOT / "services" / "gateway"
    return f"{name}_svc", ROOT / "services" / f"{name}-svc"


def make_settings(name: str, database_url: str, **overrides: Any) -> BaseServiceSettings:
    """Settings of service `name` for the battery; keyword arguments override."""
    package, _ = _package(name)
    settings_class = importlib.import_module(f"{package}.settings").Settings
    unreachable = f"http://127.0.0.1:{free_port()}"
    values: dict[str, Any] = {
        "jwt_key": TEST_JWT_KEY,
        "database_url": database_url,
        "nats_url": f"nats://127.0.0.1:{free_port()}",
        "outbox_poll_seconds": 5.0,
        "log_json": False,
        "log_level": "ERROR",
    }
    if name == "gateway":
        values |= {f"{svc}_url": unreachable for svc in ("partner", "kpi", "rebate", "alert")}
        values |= {
            "upstream_timeout_seconds": 1.0,
            "upstream_probe_timeout_seconds": 0.2,
            "rate_limit_per_second": 10_000.0,
            "rate_limit_burst": 10_000,
        }
    if name == "alert":
        values |= {"webhook_poll_seconds": 3600.0, "sweep_interval_seconds": 3600.0}
    settings: BaseServiceSettings = settings_class(**(values | overrides))
    return settings


def create_app(name: str, settings: BaseServiceSettings) -> FastAPI:
    """A new app of service `name` with `settings`."""
    package, _ = _package(name)
    app: FastAPI = importlib.import_module(f"{package}.app").create_app(settings)
    return app


@contextlib.contextmanager
def service(name: str, tmp_dir: Path, **overrides: Any) -> Iterator[Service]:
    """Service `name` on a fresh migrated database (dropped afterwards)."""
    _, folder = _package(name)
    databases: Generator[str, None, None] = fresh_database_url(folder / "alembic.ini", tmp_dir)  # type: ignore[assignment]
    database_url = next(databases)
    try:
        settings = make_settings(name, database_url, **overrides)
        yield Service(name, settings, create_app(name, settings))
    finally:
        databases.close()


def program_body(**overrides: Any) -> dict[str, Any]:
    """A valid rebate program: quarterly, retroactive, on sales."""
    return {
        "name": "battery program",
        "currency": "EUR",
        "period": "quarter",
        "basis": {"kpi": "sales_amount", "type": "volume"},
        "method": "retroactive",
        "tiers": [{"from": "0", "rate": "0.01"}, {"from": "50000", "rate": "0.03"}],
        "valid_from": "2026-01-01",
        "status": "active",
        **overrides,
    }
