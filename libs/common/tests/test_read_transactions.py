"""On SQLite, reads take no write lock: a GET's unit of work (and any `read_session`), the
readiness check and an empty outbox poll begin deferred and read beside a writer; every other
unit of work takes the lock up front."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from channel_common import (
    EventBus,
    OutboxRelay,
    SQLModelSession,
    add_event,
    create_engine,
    create_sessionmaker,
    read_session,
)
from channel_common.testing import app_client, bearer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from .conftest import _create_tables
from .widgets import Widget, WidgetSettings, create_widgets_app

WRITE = ["partners:read", "partners:write"]
# Far below busy_timeout (10 s): a statement still waiting after this waits for the lock.
PATIENCE = 0.5


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A real SQLite file (WAL), whatever TEST_DATABASE_URL says: the write lock is SQLite's."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}"
    asyncio.run(_create_tables(url))
    return url


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection in a write transaction (an uncommitted widget) for the block."""
    writer = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"))
    writer.isolation_level = None
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO test_widgets (id, name, version) VALUES (?, 'uncommitted', 1)",
            (uuid.uuid4().hex,),
        )
        yield
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[SQLModelSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


class TestReadSession:
    async def test_reads_beside_a_writer_and_sees_only_committed_rows(
        self, database_url: str, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        with write_lock_held(database_url):
            async with read_session(sessions) as session:
                count = await asyncio.wait_for(
                    session.scalar(text("SELECT count(*) FROM test_widgets")), PATIENCE
                )
                await session.commit()

        assert count == 0

    async def test_a_plain_session_waits_for_the_write_lock_before_its_first_read(
        self, database_url: str, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        async with sessions() as session:
            with write_lock_held(database_url):
                read = asyncio.ensure_future(session.scalar(text("SELECT 1")))
                await asyncio.sleep(PATIENCE)
                waiting = not read.done()
            assert await read == 1
            await session.commit()

        assert waiting

    async def test_elsewhere_it_is_a_plain_session(self) -> None:
        engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
        sessions = create_sessionmaker(engine)

        session = read_session(sessions)

        assert session.bind is engine
        await session.close()
        await engine.dispose()


class TestRoutes:
    async def test_a_get_reads_while_another_connection_holds_the_write_lock(
        self,
        settings: WidgetSettings,
        database_url: str,
        sessions: async_sessionmaker[SQLModelSession],
    ) -> None:
        # Seeded directly: a POST's event would keep the outbox relay busy beside the test.
        async with sessions() as session:
            widget = Widget(name="a")
            session.add(widget)
            await session.commit()
        widget_id = widget.id
        headers = bearer(settings, WRITE)
        async with app_client(create_widgets_app(settings)) as client:
            with write_lock_held(database_url):
                one = await asyncio.wait_for(
                    client.get(f"/api/v1/widgets/{widget_id}", headers=headers), PATIENCE * 4
                )
                listed = await asyncio.wait_for(
                    client.get("/api/v1/widgets", headers=headers), PATIENCE * 4
                )

        assert one.status_code == 200
        assert one.headers["etag"]
        assert [item["name"] for item in listed.json()["items"]] == ["a"]

    async def test_a_post_takes_the_write_lock_before_its_first_read(
        self,
        settings: WidgetSettings,
        database_url: str,
        sessions: async_sessionmaker[SQLModelSession],
    ) -> None:
        async with sessions() as session:
            session.add(Widget(name="taken"))
            await session.commit()
        headers = bearer(settings, WRITE)
        async with app_client(create_widgets_app(settings)) as client:
            with write_lock_held(database_url):
                # Its check-then-write reads the name first: it would answer 409 at once if
                # its transaction began without the lock.
                post = asyncio.ensure_future(
                    client.post("/api/v1/widgets", json={"name": "taken"}, headers=headers)
                )
                await asyncio.sleep(PATIENCE)
                waiting = not post.done()
            answer = await post

        assert waiting
        assert answer.status_code == 409


class _Bus:
    """A connected broker that acknowledges every publish."""

    connected = True

    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish(self, subject: str, _payload: bytes, _headers: dict[str, str]) -> Any:
        self.published.append(subject)
        return SimpleNamespace(duplicate=False)


class TestBackground:
    async def test_readiness_reads_beside_a_writer(
        self, settings: WidgetSettings, database_url: str
    ) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            with write_lock_held(database_url):
                ready = await asyncio.wait_for(client.get("/readyz"), PATIENCE * 4)

        assert ready.json()["checks"]["database"] is True

    async def test_an_empty_outbox_poll_takes_no_write_lock_and_events_still_go_once(
        self, database_url: str, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        bus = _Bus()
        relay = OutboxRelay(
            sessions=sessions, bus=cast(EventBus, bus), batch_size=10, poll_seconds=1
        )
        with write_lock_held(database_url):
            empty = await asyncio.wait_for(relay.publish_pending(), PATIENCE)
        async with sessions() as session:
            add_event(session, event_type="test.widget.v1", source="urn:test", data={"a": 1})
            await session.commit()

        sent = await relay.publish_pending()
        again = await relay.publish_pending()

        assert (empty, sent, again) == (0, 1, 0)
        assert bus.published == ["test.widget.v1"]
