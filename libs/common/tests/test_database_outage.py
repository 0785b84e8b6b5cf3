"""A database outage is a dependency failure, not a bug (found by battery R6): HTTP answers 503
problem+json, and consumers wait it out instead of burning deliveries into dead letters."""

from __future__ import annotations

import sqlite3

import asyncpg
import nats
import pytest
from channel_common import (
    BaseServiceSettings,
    DeadLetter,
    EventBus,
    InboxEntry,
    ReceivedEvent,
    SQLModelSession,
    create_engine,
    create_service_app,
    create_sessionmaker,
    database_unavailable,
)
from channel_common._consumer import idempotent_consumer
from channel_common.testing import (
    TEST_JWT_KEY,
    NatsServer,
    app_client,
    assert_problem,
    eventually,
    publish_event,
)
from fastapi import APIRouter
from sqlalchemy import exc as sa_exc
from sqlmodel import select


class TestDatabaseUnavailable:
    @pytest.mark.parametrize(
        "error",
        [
            ConnectionRefusedError(111, "Connect call failed"),
            TimeoutError(),
            sa_exc.TimeoutError("QueuePool limit reached"),
            asyncpg.CannotConnectNowError("the database system is starting up"),
            asyncpg.AdminShutdownError("terminating connection due to administrator command"),
            sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
            sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        ],
    )
    def test_outages_are_recognised(self, error: Exception) -> None:
        assert database_unavailable(error)

    @pytest.mark.parametrize(
        "error",
        [
            ValueError("bad value"),
            sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
            sa_exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")),
        ],
    )
    def test_bugs_and_bad_data_are_not_outages(self, error: Exception) -> None:
        assert not database_unavailable(error)

    def test_follows_the_explicit_cause(self) -> None:
        outer = RuntimeError("while committing")
        outer.__cause__ = ConnectionResetError("reset by peer")
        assert database_unavailable(outer)


async def test_http_answers_503_problem_when_the_database_is_down(database_url: str) -> None:
    router = APIRouter()

    @router.get("/down")
    async def down() -> dict[str, str]:
        """Fails as a request does when PostgreSQL is stopped."""
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    settings = BaseServiceSettings(jwt_key=TEST_JWT_KEY, database_url=database_url)
    app = create_service_app(
        settings, title="t", description="t", routers=[router], messaging=False
    )
    async with app_client(app) as client:
        answer = await client.get("/down")
    body = assert_problem(answer, 503)
    assert body["type"] == "urn:channel-suite:problem:database-unavailable"
    assert answer.headers["retry-after"] == "1"


@pytest.mark.usefixtures("streams")
async def test_consumer_waits_out_an_outage_longer_than_max_deliver(
    database_url: str, broker: NatsServer
) -> None:
    failures_left = 8  # more than max_deliver: the old code dead-lettered the event
    calls: list[str] = []

    async def handler(session: SQLModelSession, event: ReceivedEvent) -> None:
        nonlocal failures_left
        calls.append(event.id)
        if failures_left:
            failures_left -= 1
            raise ConnectionRefusedError(111, "Connect call failed")

    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    bus = EventBus(url=broker.url, name="outage-test")
    bus.add_consumer(
        idempotent_consumer(
            durable="outage-test",
            stream="PARTNER",
            subjects=("partner.outage.>",),
            handler=handler,
            sessions=sessions,
            max_deliver=3,
            ack_wait_seconds=30,
            retry_base_seconds=0.02,
            retry_max_seconds=0.1,
        )
    )
    bus.start()
    try:
        event_id = await publish_event(
            broker.url, event_type="partner.outage.v1", data={"n": 1}, source="urn:test"
        )

        async def applied() -> bool:
            async with sessions() as session:
                return bool((await session.exec(select(InboxEntry))).all())

        await eventually(applied, timeout=30)
        async with sessions() as session:
            dead = (await session.exec(select(DeadLetter))).all()
        connection = await nats.connect(broker.url)
        try:
            info = await connection.jetstream().consumer_info("PARTNER", "outage-test")
        finally:
            await connection.close()
    finally:
        await bus.close()
        await engine.dispose()
    assert dead == []
    assert calls == [event_id] * 9
    assert (info.num_redelivered, info.num_ack_pending, info.num_pending) == (0, 0, 0)
