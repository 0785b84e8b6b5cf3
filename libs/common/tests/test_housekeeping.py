"""Housekeeping deletes sent outbox rows and expired idempotency records past their retention,
and nothing else (unsent events and inbox entries stay, however old)."""

from __future__ import annotations

from datetime import datetime, timedelta

from channel_common import (
    IdempotencyRecord,
    InboxEntry,
    OutboxMessage,
    Retention,
    SQLModelSession,
    prune,
    utcnow,
)
from channel_common._metrics import HOUSEKEEPING_DELETED
from channel_common.testing import app_client, eventually
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

from .widgets import WidgetSettings, create_widgets_app

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=utcnow().tzinfo)
RETENTION = Retention(outbox=timedelta(days=7), idempotency=timedelta(hours=24))


def _outbox(seq: int, sent_at: datetime | None) -> OutboxMessage:
    return OutboxMessage(
        seq=seq,
        event_id=f"evt-{seq}",
        subject="widget.created.v1",
        headers="{}",
        payload=b"{}",
        created_at=NOW - timedelta(days=60),
        sent_at=sent_at,
    )


async def _seed(sessions: async_sessionmaker[SQLModelSession]) -> None:
    async with sessions() as session:
        session.add_all(
            [
                _outbox(1, NOW - timedelta(days=8)),  # sent long ago: goes
                _outbox(2, NOW - timedelta(days=6)),  # sent recently: stays
                _outbox(3, None),  # never sent, however old: stays
                InboxEntry(consumer="a", event_id="old", processed_at=NOW - timedelta(days=400)),
                IdempotencyRecord(
                    principal="p", key="old", request_hash="h", created_at=NOW - timedelta(hours=25)
                ),
                IdempotencyRecord(
                    principal="p", key="new", request_hash="h", created_at=NOW - timedelta(hours=1)
                ),
            ]
        )
        await session.commit()


async def _count(sessions: async_sessionmaker[SQLModelSession], model: type) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


class TestPrune:
    async def test_deletes_only_rows_past_their_retention(
        self, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        await _seed(sessions)
        before = HOUSEKEEPING_DELETED.labels("outbox")._value.get()

        deleted = await prune(sessions, RETENTION, now=NOW)

        assert deleted == {"outbox": 1, "idempotency_keys": 1}
        async with sessions() as session:
            outbox = (await session.exec(select(OutboxMessage.seq))).all()
            inbox = (await session.exec(select(InboxEntry.consumer))).all()
            keys = (await session.exec(select(IdempotencyRecord.key))).all()
        assert sorted(o for o in outbox if o is not None) == [2, 3]
        assert list(inbox) == ["a"]
        assert list(keys) == ["new"]
        assert HOUSEKEEPING_DELETED.labels("outbox")._value.get() == before + 1
        assert await prune(sessions, RETENTION, now=NOW) == dict.fromkeys(deleted, 0)

    async def test_works_through_many_batches(
        self, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        async with sessions() as session:
            session.add_all(_outbox(i, NOW - timedelta(days=9)) for i in range(1, 26))
            session.add_all(
                IdempotencyRecord(
                    principal="p", key=str(i), request_hash="h", created_at=NOW - timedelta(days=2)
                )
                for i in range(11)
            )
            await session.commit()

        deleted = await prune(sessions, RETENTION, batch_size=10, now=NOW)

        assert deleted == {"outbox": 25, "idempotency_keys": 11}
        assert await _count(sessions, OutboxMessage) == 0
        assert await _count(sessions, IdempotencyRecord) == 0


async def test_every_service_app_prunes_in_the_background(
    settings: WidgetSettings, sessions: async_sessionmaker[SQLModelSession]
) -> None:
    async with sessions() as session:
        session.add(_outbox(1, utcnow() - timedelta(days=8)))
        await session.commit()
    fast = settings.model_copy(update={"housekeeping_interval_seconds": 0.1})

    async with app_client(create_widgets_app(fast)):
        await eventually(lambda: _empty(sessions, OutboxMessage))


async def _empty(sessions: async_sessionmaker[SQLModelSession], model: type) -> bool:
    return await _count(sessions, model) == 0
