"""Fixtures of the rebate-svc tests: a migrated database, the app on real NATS, event
factories for the projections, and `Api`, a small client that knows the routes."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
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
from rebate_svc.app import create_app
from rebate_svc.consumers import aggregates_handler, partner_handler
from rebate_svc.settings import Settings
from sqlalchemy.ext.asyncio import async_sessionmaker

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
ALL_SCOPES = ("rebates:read", "rebates:write", "rebates:approve")
TODAY = date(2026, 8, 16)  # day 47 of 2026-Q3 (92 days)
_versions = itertools.count(1)


def make_partner_event(**overrides: Any) -> dict[str, Any]:
    """The data of a `partner.*` event: a full snapshot (active distributor in CN-GD)."""
    return {
        "id": str(uuid.uuid4()),
        "code": f"P{next(_versions):05d}",
        "name": "Acme Trading",
        "tier": "gold",
        "type": "distributor",
        "region": "CN-GD",
        "status": "active",
        "territories": [{"region": "CN-GD", "exclusive": False}],
        "version": 1,
        **overrides,
    }


def make_update(partner_id: str, period: str, value: str, **overrides: Any) -> dict[str, Any]:
    """One entry of `kpi.aggregates.updated.v1` (monthly sales by default)."""
    return {
        "partner_id": partner_id,
        "kpi": "sales_amount",
        "granularity": "month",
        "period": period,
        "value": value,
        "count": 3,
        "version": next(_versions),
        **overrides,
    }


def make_aggregates_event(*updates: dict[str, Any]) -> dict[str, Any]:
    """The data of a `kpi.aggregates.updated.v1` event."""
    return {"updates": list(updates)}


def received(subject: str, data: Any, event_id: str | None = None) -> ReceivedEvent:
    """An event as a consumer receives it."""
    return ReceivedEvent(
        id=event_id or str(uuid.uuid4()),
        type=subject,
        source="urn:test",
        subject=None,
        time=None,
        data=data,
        nats_subject=subject,
    )


class Feed:
    """Applies events straight through the consumers' handlers (no NATS)."""

    def __init__(self, sessions: async_sessionmaker[SQLModelSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def partner(self, **overrides: Any) -> dict[str, Any]:
        data = make_partner_event(**overrides)
        async with self.sessions() as session:
            await partner_handler(self.settings)(session, received("partner.registered.v1", data))
            await session.commit()
        return data

    async def aggregates(self, *updates: dict[str, Any]) -> None:
        handler = aggregates_handler(self.settings)
        async with self.sessions() as session:
            event = received("kpi.aggregates.updated.v1", make_aggregates_event(*updates))
            await handler(session, event)
            await session.commit()

    async def sales(
        self, partner_id: str, months: dict[str, str], kpi: str = "sales_amount"
    ) -> None:
        """Monthly values of a KPI, e.g. `sales(pid, {"2026-07": "100.00"})`."""
        await self.aggregates(
            *(make_update(partner_id, month, value, kpi=kpi) for month, value in months.items())
        )


def program_body(**overrides: Any) -> dict[str, Any]:
    """A quarterly retroactive sales program: the DESIGN.md worked example's tiers."""
    return {
        "name": "Q sales rebate",
        "currency": "EUR",
        "period": "quarter",
        "basis": {"kpi": "sales_amount", "type": "volume"},
        "method": "retroactive",
        "tiers": [
            {"from": "0", "rate": "0.01"},
            {"from": "50000", "rate": "0.03"},
            {"from": "120000", "rate": "0.04"},
        ],
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "status": "active",
        **overrides,
    }


class Api:
    """The rebate-svc routes over an in-process client, as a given principal."""

    problem = staticmethod(assert_problem)

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.headers = bearer(settings, ALL_SCOPES, subject="ops-alice")

    def as_principal(
        self, scopes: tuple[str, ...] = ALL_SCOPES, *, partner_id: str | None = None,
        subject: str = "portal",
    ) -> Api:  # fmt: skip
        """The same client acting as another principal."""
        other = Api(self.client, self.settings)
        other.headers = bearer(self.settings, scopes, partner_id=partner_id, subject=subject)
        return other

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"/api/v1{url}", headers=headers, **kwargs)

    async def create_program(self, **overrides: Any) -> dict[str, Any]:
        response = await self.request("POST", "/rebate-programs", json=program_body(**overrides))
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def run(self, program_id: str, period: str, **kwargs: Any) -> dict[str, Any]:
        """Start a run (202 expected) and read it back."""
        body = {"program_id": program_id, "period": period}
        response = await self.request("POST", "/rebate-runs", json=body, **kwargs)
        assert response.status_code == 202, response.text
        run = await self.request("GET", f"/rebate-runs/{response.json()['id']}")
        assert run.status_code == 200, run.text
        result: dict[str, Any] = run.json()
        return result

    async def statements(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.request("GET", "/rebate-statements", params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def statement(self, statement_id: str) -> dict[str, Any]:
        response = await self.request("GET", f"/rebate-statements/{statement_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A freshly migrated rebate-svc database."""
    yield from fresh_database_url(ALEMBIC_INI, tmp_path)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # A NATS nobody listens on: other tests' events on a shared server must not reach this
    # service's consumers. Integration tests swap in a broker of their own.
    return Settings(
        jwt_key=TEST_JWT_KEY,
        database_url=database_url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        outbox_poll_seconds=0.2,
        log_json=False,
        log_level="WARNING",
        fixed_today=TODAY,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings)) as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings) -> Api:
    """The routes as an ops user holding every rebates scope."""
    return Api(client, settings)


@pytest.fixture
def feed(sessions: async_sessionmaker[SQLModelSession], settings: Settings) -> Feed:
    """Feeds the projections through the consumers' handlers."""
    return Feed(sessions, settings)


@pytest.fixture(name="program_body")
def program_body_fixture() -> Any:
    """The `program_body(**overrides)` factory."""
    return program_body


@pytest.fixture(name="make_partner_event")
def make_partner_event_fixture() -> Any:
    """The `make_partner_event(**overrides)` factory."""
    return make_partner_event


@pytest.fixture(name="make_update")
def make_update_fixture() -> Any:
    """The `make_update(partner_id, period, value, **overrides)` factory."""
    return make_update


@pytest.fixture(name="make_aggregates_event")
def make_aggregates_event_fixture() -> Any:
    """The `make_aggregates_event(*updates)` factory."""
    return make_aggregates_event
