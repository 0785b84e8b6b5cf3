"""The bulk outbox writer: many events in one insert, in line with events added one by one."""

from __future__ import annotations

import json

from channel_common import (
    OutboxMessage,
    add_event,
    add_events,
    create_engine,
    create_sessionmaker,
)
from pydantic import BaseModel
from sqlmodel import col, select

SOURCE = "urn:channel-suite:outbox-test"


class Counted(BaseModel):
    count: int


async def test_writes_every_kind_of_data_in_order(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        first = add_event(session, event_type="test.first.v1", source=SOURCE, data={"n": 0})
        written = await add_events(
            session,
            event_type="test.bulk.v1",
            source=SOURCE,
            events=[("s-1", {"n": 1}), (None, Counted(count=2)), ("s-3", b'{"n":3}')],
        )
        assert await add_events(session, event_type="test.none.v1", source=SOURCE, events=[]) == 0
        assert session.info.get("outbox_pending")
        await session.commit()
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.seq)))).all()
    await engine.dispose()
    assert written == 3
    assert [row.subject for row in rows] == ["test.first.v1"] + ["test.bulk.v1"] * 3
    assert rows[0].event_id == first
    assert [row.payload for row in rows] == [b'{"n":0}', b'{"n":1}', b'{"count":2}', b'{"n":3}']
    headers = [json.loads(row.headers) for row in rows[1:]]
    assert [h.get("ce-subject") for h in headers] == ["s-1", None, "s-3"]
    assert all(h["ce-id"] == row.event_id for h, row in zip(headers, rows[1:], strict=True))
    assert all(row.sent_at is None and row.created_at is not None for row in rows)
