"""Fixtures for the channel_common tests: the widgets app on a fresh database and real NATS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_common import DeadLetter, IdempotencyRecord, InboxEntry, OutboxMessage, create_engine
from channel_common.testing import TEST_JWT_KEY, NatsServer, fresh_database_url
from sqlmodel import SQLModel

from .widgets import Tally, Widget, WidgetSettings

TABLES = [
    t.__table__ for t in (Widget, Tally, OutboxMessage, InboxEntry, DeadLetter, IdempotencyRecord)
]


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database holding the widgets and infrastructure tables."""
    for url in fresh_database_url(None, tmp_path):
        asyncio.run(_create_tables(url))
        yield url


async def _create_tables(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=TABLES)
    await engine.dispose()


@pytest.fixture
def settings(database_url: str, nats_server: NatsServer) -> WidgetSettings:
    return WidgetSettings(
        jwt_key=TEST_JWT_KEY,
        database_url=database_url,
        nats_url=nats_server.url,
        max_body_bytes=10_000,
        outbox_poll_seconds=0.2,
        consumer_max_deliver=3,
        consumer_retry_base_seconds=0.05,
        consumer_ack_wait_seconds=5,
        log_json=False,
    )
