"""Every service starts on a migrated database and real NATS, and serves the standard routes."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_common.testing import TEST_JWT_KEY, NatsServer, app_client, fresh_database_url

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["partner-svc", "kpi-svc", "rebate-svc", "alert-svc"]


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A service name and a fresh database migrated with that service's migrations."""
    name = request.param
    for url in fresh_database_url(ROOT / "services" / name / "alembic.ini", tmp_path):
        yield name, url


async def test_serves_health_metrics_and_openapi(
    service: tuple[str, str], nats_server: NatsServer
) -> None:
    name, database_url = service
    package = name.replace("-", "_")
    settings_module = importlib.import_module(f"{package}.settings")
    app_module = importlib.import_module(f"{package}.app")
    settings = settings_module.Settings(
        jwt_key=TEST_JWT_KEY, database_url=database_url, nats_url=nats_server.url
    )
    async with app_client(app_module.create_app(settings)) as client:
        assert (await client.get("/livez")).status_code == 200
        for _ in range(100):
            ready = await client.get("/readyz")
            if ready.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert ready.json() == {
            "status": "ready",
            "checks": {"running": True, "database": True, "nats": True},
        }
        assert "http_server_request_duration_seconds" in (await client.get("/metrics")).text
        document = (await client.get("/openapi.json")).json()
        assert document["info"]["title"] == f"Channel Suite {name}"
