"""Fixtures of the kpi-svc tests: a migrated database, the app over real NATS, a seeded partner
replica, and `Kpi`, a small client that knows the routes (tests still see raw responses)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from channel_common import ReceivedEvent, SQLModelSession
from channel_common.testing import (
    TEST_JWT_KEY,
    app_client,
    assert_problem,
    bearer,
    free_port,
    fresh_database_url,
)
from kpi_svc.app import create_app
from kpi_svc.consumers import apply_partner_event
from kpi_svc.settings import Settings
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
READ_WRITE = ("kpis:read", "kpis:write")
_codes = itertools.count(1)


def make_partner_snapshot(**overrides: Any) -> dict[str, Any]:
    """A `partner.*` event's data as partner-svc publishes it (extra fields included)."""
    return {
        "id": str(uuid.uuid4()),
        "code": f"P{next(_codes):05d}",
        "name": "Acme Trading",
        "type": "distributor",
        "tier": "gold",
        "region": "CN-GD",
        "parent_id": None,
        "status": "active",
        "contact": {"name": "Li", "email": None, "phone": None},
        "qualification": {"registered_capital": "1000000.00"},
        "attributes": {},
        "territories": [{"region": "CN-GD", "exclusive": False}],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "version": 1,
        **overrides,
    }


def obs(partner: str, kpi: str = "sales_amount", **overrides: Any) -> dict[str, Any]:
    """One observation item of an ingestion body."""
    return {
        "partner_id": partner,
        "kpi": kpi,
        "value": "10",
        "occurred_on": "2026-10-15",
        **overrides,
    }


problem = assert_problem


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to head (PostgreSQL when TEST_DATABASE_URL is set)."""
    yield from fresh_database_url(ALEMBIC_INI, tmp_path)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings of an app whose NATS is unreachable: HTTP tests read the outbox, and no other
    test's events reach their consumers. Tests with messaging bring a broker of their own."""
    return Settings(
        jwt_key=TEST_JWT_KEY,
        database_url=database_url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        outbox_poll_seconds=0.2,
        consumer_max_deliver=3,
        consumer_retry_base_seconds=0.05,
        consumer_ack_wait_seconds=5,
        log_json=False,
        log_level="WARNING",
    )


class Kpi:
    """The kpi-svc routes over an in-process client, as a given principal."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessions: async_sessionmaker[SQLModelSession],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.sessions = sessions
        self.headers = headers or bearer(settings, READ_WRITE, subject="ops-alice")

    def as_principal(
        self, scopes: tuple[str, ...] = READ_WRITE, *, partner_id: str | None = None
    ) -> Kpi:
        """The same client acting as another principal."""
        headers = bearer(self.settings, scopes, partner_id=partner_id, subject="portal")
        return Kpi(self.client, self.settings, self.sessions, headers)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"/api/v1{url}", headers=headers, **kwargs)

    async def get(self, url: str, **params: Any) -> httpx.Response:
        return await self.request("GET", url, params=params)

    async def ok(self, url: str, **params: Any) -> Any:
        """GET that must answer 200; the JSON body."""
        response = await self.get(url, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def partner(self, **overrides: Any) -> str:
        """Seed the replica through the consumer handler; the partner's id."""
        snapshot = make_partner_snapshot(**overrides)
        await self.apply_snapshot(snapshot)
        return str(snapshot["id"])

    async def apply_snapshot(self, snapshot: dict[str, Any]) -> None:
        event = ReceivedEvent(
            id=str(uuid.uuid4()),
            type="partner.registered.v1",
            source="urn:channel-suite:partner-svc",
            subject=None,
            time=None,
            data=snapshot,
            nats_subject="partner.registered.v1",
        )
        async with self.sessions() as session:
            await apply_partner_event(session, event)
            await session.commit()

    async def post_batch(self, items: list[dict[str, Any]], **kwargs: Any) -> httpx.Response:
        return await self.request("POST", "/observations", json={"observations": items}, **kwargs)

    async def ingest(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Ingest a batch that must be answered 200; the answer."""
        response = await self.post_batch(items)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def rows(self, model: type) -> list[Any]:
        """Every row of a table, straight from the database."""
        async with self.sessions() as session:
            return list((await session.exec(select(model))).all())


@pytest.fixture
async def kpi(
    settings: Settings, sessions: async_sessionmaker[SQLModelSession]
) -> AsyncIterator[Kpi]:
    """The running app and a client with kpis:read and kpis:write."""
    async with app_client(create_app(settings)) as client:
        yield Kpi(client, settings, sessions)
