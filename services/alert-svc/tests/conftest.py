"""Fixtures of the alert-svc tests: a migrated database, the app on real NATS, `Api` (a small
client that knows the routes) and `Feed` (events handed straight to the consumers)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alert_svc.app import create_app
from alert_svc.consumers import (
    AGGREGATES_UPDATED,
    OBSERVATIONS_RECORDED,
    apply_aggregates_event,
    apply_partner_event,
    record_observations_event,
)
from alert_svc.models import (
    Alert,
    AlertRule,
    KpiValue,
    ObservationDay,
    PartnerReplica,
    Silence,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from alert_svc.settings import Settings
from channel_common import (
    DeadLetter,
    EventHandler,
    IdempotencyRecord,
    InboxEntry,
    OutboxMessage,
    ReceivedEvent,
    SQLModelSession,
    claim_event,
    create_engine,
)
from channel_common.testing import (
    TEST_JWT_KEY,
    app_client,
    assert_problem,
    bearer,
    free_port,
    fresh_database_url,
)
from sqlalchemy.ext.asyncio import async_sessionmaker

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
READ_WRITE = ("alerts:read", "alerts:write")
_versions = itertools.count(1)
# Children before parents (SQLite deletes in this order).
ALERT_TABLES = (
    WebhookAttempt,
    WebhookDelivery,
    Webhook,
    Silence,
    Alert,
    ObservationDay,
    KpiValue,
    PartnerReplica,
    AlertRule,
)


def make_partner(**overrides: Any) -> dict[str, Any]:
    """A `partner.*` event body: the full snapshot."""
    return {
        "id": str(uuid.uuid4()),
        "code": "P-1",
        "name": "Acme",
        "tier": "gold",
        "type": "distributor",
        "region": "CN-GD",
        "status": "active",
        "territories": [{"region": "CN-GD", "exclusive": True}],
        "version": 1,
        **overrides,
    }


def make_update(partner_id: str, period: str, value: str, **overrides: Any) -> dict[str, Any]:
    """One entry of a `kpi.aggregates.updated.v1` event (versions grow across calls)."""
    return {
        "partner_id": partner_id,
        "kpi": "sales_amount",
        "granularity": "month" if len(period) == 7 else "day",
        "period": period,
        "value": value,
        "count": 1,
        "version": next(_versions),
        **overrides,
    }


def make_observation(partner_id: str, occurred_on: str, region: str, **kw: Any) -> dict[str, Any]:
    """One entry of a `kpi.observations.recorded.v1` event."""
    return {
        "id": str(uuid.uuid4()),
        "partner_id": partner_id,
        "kpi": "sales_amount",
        "value": "100",
        "occurred_on": occurred_on,
        "region": region,
        "source": "erp",
        **kw,
    }


class Feed:
    """Hands events to the consumers' handlers, as the idempotent consumer would."""

    update = staticmethod(make_update)
    observation = staticmethod(make_observation)

    def __init__(self, sessions: async_sessionmaker[SQLModelSession]) -> None:
        self.sessions = sessions

    async def event(
        self, handler: EventHandler, subject: str, data: Any, event_id: str | None = None
    ) -> None:
        event = ReceivedEvent(
            id=event_id or str(uuid.uuid4()),
            type=subject,
            source="urn:test",
            subject=None,
            time=None,
            data=data,
            nats_subject=subject,
        )
        async with self.sessions() as session:
            if await claim_event(session, consumer=handler.__name__, event_id=event.id):
                await handler(session, event)
            await session.commit()

    async def partner(self, **overrides: Any) -> dict[str, Any]:
        snapshot = make_partner(**overrides)
        await self.event(apply_partner_event, "partner.registered.v1", snapshot)
        return snapshot

    async def aggregates(self, *updates: dict[str, Any], event_id: str | None = None) -> None:
        data = {"updates": list(updates)}
        await self.event(apply_aggregates_event, AGGREGATES_UPDATED, data, event_id)

    async def observations(self, *observations: dict[str, Any]) -> None:
        data = {"batch_id": str(uuid.uuid4()), "observations": list(observations)}
        await self.event(record_observations_event, OBSERVATIONS_RECORDED, data)


class Api:
    """The alert-svc routes over an in-process client, as a given principal."""

    problem = staticmethod(assert_problem)

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.headers = bearer(settings, READ_WRITE, subject="ops-alice")

    def as_principal(
        self, scopes: tuple[str, ...] = READ_WRITE, *, partner_id: str | None = None
    ) -> Api:
        """The same client acting as another principal."""
        other = Api(self.client, self.settings)
        other.headers = bearer(self.settings, scopes, partner_id=partner_id, subject="other")
        return other

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"/api/v1{url}", headers=headers, **kwargs)

    async def create_rule(self, **overrides: Any) -> dict[str, Any]:
        """Create a rule (201 expected): by default sales_amount < 1000 per month."""
        body = {
            "name": "low sales",
            "kpi": "sales_amount",
            "condition": {"type": "threshold", "op": "lt", "value": "1000"},
            "severity": "warning",
            **overrides,
        }
        response = await self.request("POST", "/alert-rules", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def alerts(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.request("GET", "/alerts", params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture(scope="session")
def migrated_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated alert-svc database for the session (creating a PostgreSQL database per
    test costs about a second; emptying the tables costs milliseconds)."""
    yield from fresh_database_url(ALEMBIC_INI, tmp_path_factory.mktemp("alert-db"))


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """The migrated database, emptied before the test."""
    asyncio.run(_empty_tables(migrated_database_url))
    return migrated_database_url


async def _empty_tables(url: str) -> None:
    tables = [
        *(m.__tablename__ for m in (OutboxMessage, InboxEntry, DeadLetter, IdempotencyRecord)),
        *(m.__tablename__ for m in ALERT_TABLES),
    ]
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")
            else:
                for table in tables:
                    await connection.exec_driver_sql(f"DELETE FROM {table}")
    finally:
        await engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # A NATS nobody listens on: other tests' events on a shared server must not reach this
    # service's consumers. Integration tests swap in a broker of their own.
    return Settings(
        jwt_key=TEST_JWT_KEY,
        database_url=database_url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        outbox_poll_seconds=0.2,
        allow_loopback_webhooks=True,
        webhook_poll_seconds=0.05,
        webhook_backoff_base_seconds=0.1,
        webhook_backoff_max_seconds=0.5,
        webhook_timeout_seconds=2.0,
        sweep_interval_seconds=3600,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings)) as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings) -> Api:
    """The routes as an ops user holding alerts:read and alerts:write."""
    return Api(client, settings)


@pytest.fixture
def feed(sessions: async_sessionmaker[SQLModelSession]) -> Feed:
    return Feed(sessions)
