"""Transactional outbox: events are rows written with the change; a relay publishes them."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import event, func, insert, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from sqlmodel import select

from ._bus import EventBus
from ._db import SQLModelSession, read_session, utcnow
from ._events import build_headers, encode_data
from ._metrics import (
    EVENTS_PUBLISHED,
    OUTBOX_BACKLOG,
    OUTBOX_DUPLICATES,
    OUTBOX_PUBLISH_FAILURES,
)
from ._tables import OutboxMessage

__all__ = ["EventData", "OutboxRelay", "add_event", "add_events", "mark_outbox_pending"]

log = structlog.get_logger(__name__)
_PENDING_FLAG = "outbox_pending"
FAULT_EXIT_CODE = 70


# An event's `data`: a model, a dict, or JSON already encoded (for bodies written as text).
EventData = BaseModel | dict[str, Any] | bytes


def add_event(
    session: SQLModelSession,
    *,
    event_type: str,
    source: str,
    data: EventData,
    subject: str | None = None,
) -> str:
    """Write an event into the outbox within the caller's transaction; returns its id."""
    row = _outbox_row(event_type=event_type, source=source, subject=subject, data=data)
    session.add(OutboxMessage(**row))
    mark_outbox_pending(session)
    return str(row["event_id"])


async def add_events(
    session: SQLModelSession,
    *,
    event_type: str,
    source: str,
    events: Iterable[tuple[str | None, EventData]],
) -> int:
    """Write `(subject, data)` events of one type into the outbox within the caller's
    transaction, in one bulk insert (COPY on PostgreSQL); how many were written.

    `add_event` makes one ORM object per event, too slow for thousands."""
    now = utcnow()
    rows = [
        _outbox_row(event_type=event_type, source=source, subject=subject, data=data, now=now)
        for subject, data in events
    ]
    if not rows:
        return 0
    await session.flush()  # events added one by one before these keep their place in line
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        connection = await session.connection()
        driver: Any = (await connection.get_raw_connection()).driver_connection
        columns = list(rows[0])
        records = [tuple(row[column] for column in columns) for row in rows]
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    else:
        await session.execute(insert(table), rows)
    mark_outbox_pending(session)
    return len(rows)


def _outbox_row(
    *,
    event_type: str,
    source: str,
    subject: str | None,
    data: EventData,
    now: datetime | None = None,
) -> dict[str, Any]:
    headers = build_headers(event_type=event_type, source=source, subject=subject, time=now)
    return {
        "event_id": headers["ce-id"],
        "subject": event_type,
        "headers": json.dumps(headers),
        "payload": data if isinstance(data, bytes) else encode_data(data),
        "created_at": now or utcnow(),
    }


def mark_outbox_pending(session: SQLModelSession) -> None:
    """Wake the relay when this session commits (for outbox rows written in bulk by hand)."""
    session.info[_PENDING_FLAG] = True


class OutboxRelay:
    """Publishes unsent outbox rows in order, then marks them sent; waits out broker outages."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[SQLModelSession],
        bus: EventBus,
        batch_size: int,
        poll_seconds: float,
        fault_exit_before_mark_sent: bool = False,
    ) -> None:
        self._sessions = sessions
        self._fault_exit = fault_exit_before_mark_sent
        self._bus = bus
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._backlog = 0  # unsent events at the last count
        sync_class = sessions.kw.get("sync_session_class")
        if sync_class is not None:
            event.listen(sync_class, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_PENDING_FLAG, False):
            self._wakeup.set()

    def wake(self) -> None:
        """Look for new events now instead of at the next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        """Finish the current batch and return from `run`."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        """Relay until stopped."""
        while not self._stopping:
            # Cleared before looking, so that a commit made while a batch is out wakes it again.
            self._wakeup.clear()
            try:
                sent = await self.publish_pending()
            except Exception as exc:
                OUTBOX_PUBLISH_FAILURES.inc()
                log.warning("outbox_relay_failed", error=str(exc))
                # Back off a whole poll: commits made while the broker was failing must not
                # retry at once (on SQLite each try holds the write lock the writers wait for).
                self._wakeup.clear()
                sent = 0
            if sent < self._batch_size and not self._stopping:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)
                except TimeoutError:
                    pass

    async def publish_pending(self) -> int:
        """Publish one batch of unsent events; returns how many were sent.

        When the last count left nothing to send, a read (no write lock on SQLite) looks first:
        an empty poll locks nothing. The batch itself is claimed under the lock as ever."""
        if not self._bus.connected:
            await self._update_backlog()
            return 0
        if self._backlog == 0 and await self._update_backlog() == 0:
            return 0
        async with self._sessions() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
                    .order_by(OutboxMessage.seq)  # type: ignore[arg-type]
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            sent: list[int] = []
            try:
                for row in rows:
                    ack = await self._bus.publish(row.subject, row.payload, json.loads(row.headers))
                    EVENTS_PUBLISHED.labels(row.subject).inc()
                    if ack.duplicate:
                        OUTBOX_DUPLICATES.inc()
                    assert row.seq is not None
                    sent.append(row.seq)
                if self._fault_exit and sent:
                    # Fault drill (battery R3): die between publish and mark-sent.
                    log.error("outbox_fault_exit", published=len(sent))
                    os._exit(FAULT_EXIT_CODE)
            finally:
                if sent:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.seq.in_(sent))  # type: ignore[union-attr]
                        .values(sent_at=utcnow())
                    )
                await session.commit()
        await self._update_backlog()
        return len(sent)

    async def _update_backlog(self) -> int:
        """Count the unsent events into the backlog gauge; the count."""
        async with read_session(self._sessions) as session:
            count = (
                await session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
                )
            ).one()
        OUTBOX_BACKLOG.set(count)
        self._backlog = count
        return count
