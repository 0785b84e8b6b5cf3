"""Health and settings: ready only with the database and every service ready; defaults."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
from channel_common.testing import TEST_JWT_KEY, app_client, free_port
from gateway.app import create_app
from gateway.settings import Settings


class TestReadiness:
    async def test_ready_when_every_service_is_ready(
        self, gateway: httpx.AsyncClient, upstreams: Any
    ) -> None:
        response = await gateway.get("/readyz")

        assert response.status_code == 200
        checks = response.json()["checks"]
        assert checks["database"] is True
        assert checks["upstreams"] is True
        assert "nats" not in checks  # the gateway publishes no events

    async def test_not_ready_when_a_service_is_down(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        settings = make_settings(kpi_url=f"http://127.0.0.1:{free_port()}")
        async with app_client(create_app(settings)) as client:
            response = await client.get("/readyz")

        assert response.status_code == 503
        assert response.json()["checks"]["upstreams"] is False
        assert response.headers["retry-after"]

    async def test_not_ready_when_a_service_says_it_is_not(
        self, gateway: httpx.AsyncClient, upstreams: Any
    ) -> None:
        upstreams["alert"].ready = False

        response = await gateway.get("/readyz")

        assert response.status_code == 503

    async def test_a_hanging_service_makes_it_unready_quickly(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        with socket.socket() as silent:  # accepts connections, never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            settings = make_settings(
                rebate_url=f"http://127.0.0.1:{port}", upstream_probe_timeout_seconds=0.3
            )
            async with app_client(create_app(settings)) as client:
                started = time.monotonic()
                response = await client.get("/readyz")
                elapsed = time.monotonic() - started

        assert response.status_code == 503
        assert elapsed < 1.0

    async def test_liveness_needs_nothing(self, gateway: httpx.AsyncClient) -> None:
        assert (await gateway.get("/livez")).json() == {"status": "ok"}


class TestSettings:
    def test_defaults_point_at_the_local_services(self) -> None:
        settings = Settings(jwt_key=TEST_JWT_KEY)

        assert settings.upstream_urls == {
            "partner": "http://127.0.0.1:8001",
            "kpi": "http://127.0.0.1:8002",
            "rebate": "http://127.0.0.1:8003",
            "alert": "http://127.0.0.1:8004",
        }
        assert settings.database_url == "sqlite+aiosqlite:///.run/gateway.db"
        assert settings.max_body_bytes == 32 * 1024 * 1024
        assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (50, 100)

    def test_read_from_gateway_prefixed_environment(self, monkeypatch: Any) -> None:
        monkeypatch.setenv("GATEWAY_KPI_URL", "http://kpi-svc:8000/")
        monkeypatch.setenv("GATEWAY_TOKEN_TTL_SECONDS", "120")

        settings = Settings(jwt_key=TEST_JWT_KEY)

        assert settings.kpi_url == "http://kpi-svc:8000"
        assert settings.token_ttl_seconds == 120
