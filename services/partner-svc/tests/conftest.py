"""Fixtures of the partner-svc tests: a migrated database, the app on real NATS, and `Api`,
a small client that knows the routes (tests still see every raw response)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from channel_common.testing import (
    TEST_JWT_KEY,
    NatsServer,
    app_client,
    assert_problem,
    bearer,
    fresh_database_url,
)
from partner_svc.app import create_app
from partner_svc.settings import Settings

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
READ_WRITE = ("partners:read", "partners:write")
_codes = itertools.count(1)


class Api:
    """The partner-svc routes over an in-process client, as a given principal."""

    # Qualification figures that meet every tier of the default ladder.
    QUALIFIED = {"registered_capital": "60000000", "years_in_business": 12, "service_staff": 80}

    problem = staticmethod(assert_problem)

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.headers = bearer(settings, READ_WRITE, subject="ops-alice")

    def as_principal(
        self,
        scopes: tuple[str, ...] = READ_WRITE,
        *,
        partner_id: str | None = None,
        subject: str = "portal",
    ) -> Api:
        """The same client acting as another principal."""
        other = Api(self.client, self.settings)
        other.headers = bearer(self.settings, scopes, partner_id=partner_id, subject=subject)
        return other

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"/api/v1{url}", headers=headers, **kwargs)

    async def create(self, **overrides: Any) -> dict[str, Any]:
        """Register a partner (201 expected); keyword arguments override the defaults."""
        response = await self.post_partner(**overrides)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def post_partner(self, **overrides: Any) -> httpx.Response:
        body = {
            "code": f"P{next(_codes):05d}",
            "name": "Acme Trading",
            "type": "distributor",
            "region": "CN-GD",
            **overrides,
        }
        return await self.request("POST", "/partners", json=body)

    async def get(self, partner_id: str) -> httpx.Response:
        return await self.request("GET", f"/partners/{partner_id}")

    async def patch(self, partner_id: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", f"/partners/{partner_id}", json=body, **kwargs)

    async def transition(
        self, partner_id: str, to: str, reason: str = "test", **kwargs: Any
    ) -> httpx.Response:
        body = {"to": to, "reason": reason}
        return await self.request(
            "POST", f"/partners/{partner_id}/transitions", json=body, **kwargs
        )

    async def move(self, partner_id: str, *states: str) -> dict[str, Any]:
        """Walk the partner through `states` (each move must succeed)."""
        body: dict[str, Any] = {}
        for state in states:
            response = await self.transition(partner_id, state)
            assert response.status_code == 200, response.text
            body = response.json()
        return body

    async def set_tier(
        self, partner_id: str, tier: str, reason: str = "review", **kwargs: Any
    ) -> httpx.Response:
        body = {"tier": tier, "reason": reason}
        return await self.request("POST", f"/partners/{partner_id}/tier", json=body, **kwargs)

    async def put_territories(self, partner_id: str, body: Any, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", f"/partners/{partner_id}/territories", json=body, **kwargs)

    async def owner(self, region: str) -> httpx.Response:
        return await self.request("GET", "/territories/owner", params={"region": region})

    async def codes(self, url: str = "/partners", **params: Any) -> list[str]:
        """The codes of every partner a list returns (one page of up to 500)."""
        response = await self.request("GET", url, params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        return [item["code"] for item in response.json()["items"]]


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A freshly migrated partner-svc database."""
    yield from fresh_database_url(ALEMBIC_INI, tmp_path)


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer) -> Settings:
    return Settings(
        jwt_key=TEST_JWT_KEY,
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_poll_seconds=0.2,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings)) as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings) -> Api:
    """The routes as an ops user holding partners:read and partners:write."""
    return Api(client, settings)


@pytest.fixture
async def parallel_api(settings: Settings) -> AsyncIterator[Api]:
    """`Api` over a client that may send concurrent requests."""
    async with app_client(create_app(settings)) as client:
        yield Api(client, settings)
