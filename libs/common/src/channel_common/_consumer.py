"""Idempotent event consumption: inbox row + effect in one transaction, ack after commit,
growing nack delays, and a dead-letter record after the last delivery.

A database outage is not the event's fault: while the database cannot be reached the consumer
retries the same message in place (telling JetStream it is still in progress), so an outage
longer than the nack schedule neither burns the deliveries nor dead-letters healthy events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

import structlog
from nats.aio.msg import Msg
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.dml import Insert

from ._bus import ConsumerSpec
from ._db import SQLModelSession, database_unavailable
from ._events import ReceivedEvent
from ._logging import trace_context
from ._metrics import DEAD_LETTERS, EVENTS_CONSUMED, REDELIVERIES
from ._tables import DeadLetter, InboxEntry

__all__ = ["EventHandler", "claim_event", "idempotent_consumer"]

log = structlog.get_logger(__name__)
EventHandler = Callable[[SQLModelSession, ReceivedEvent], Awaitable[None]]


async def claim_event(session: SQLModelSession, *, consumer: str, event_id: str) -> bool:
    """Record `event_id` as applied by `consumer`; False when it already was."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement: Insert = (
        postgresql.insert(InboxEntry).on_conflict_do_nothing()
        if dialect == "postgresql"
        else sqlite.insert(InboxEntry).on_conflict_do_nothing()
    )
    result = await session.execute(statement.values(consumer=consumer, event_id=event_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def idempotent_consumer(
    *,
    durable: str,
    stream: str,
    subjects: tuple[str, ...],
    handler: EventHandler,
    sessions: async_sessionmaker[SQLModelSession],
    max_deliver: int,
    ack_wait_seconds: float,
    retry_base_seconds: float,
    retry_max_seconds: float,
) -> ConsumerSpec:
    """A consumer that applies each event exactly once through `handler`."""
    # Every series exists from the start at 0: one born at its first increment starts at 1,
    # which rate() and increase() cannot see (the first dead letter would go unnoticed).
    REDELIVERIES.labels(durable)
    DEAD_LETTERS.labels(durable)
    for result in ("applied", "duplicate", "failed"):
        EVENTS_CONSUMED.labels(durable, result)

    async def apply(msg: Msg) -> bool:
        """Apply the event once; waits out database outages. True: applied, False: a replay."""
        pause = retry_base_seconds
        while True:
            try:
                event = ReceivedEvent.from_message(
                    nats_subject=msg.subject, headers=msg.headers, payload=msg.data
                )
                async with sessions() as session:
                    applied = await claim_event(session, consumer=durable, event_id=event.id)
                    if applied:
                        with trace_context(event.traceparent):
                            await handler(session, event)
                    await session.commit()
                return applied
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                log.warning("event_waits_for_database", consumer=durable, error=repr(exc)[:300])
                with contextlib.suppress(Exception):
                    await msg.in_progress()  # keep the delivery: no redelivery meanwhile
                await asyncio.sleep(pause)
                pause = min(pause * 2, retry_max_seconds, ack_wait_seconds / 2)

    async def process(msg: Msg) -> None:
        delivered = msg.metadata.num_delivered or 1
        if delivered > 1:
            REDELIVERIES.labels(durable).inc()
        try:
            applied = await apply(msg)
        except Exception as exc:
            await _on_failure(msg, exc, delivered)
            return
        await msg.ack()
        EVENTS_CONSUMED.labels(durable, "applied" if applied else "duplicate").inc()

    async def _on_failure(msg: Msg, exc: Exception, delivered: int) -> None:
        EVENTS_CONSUMED.labels(durable, "failed").inc()
        if delivered < max_deliver:
            delay = min(retry_base_seconds * 2 ** (delivered - 1), retry_max_seconds)
            log.warning(
                "event_retry",
                consumer=durable,
                subject=msg.subject,
                delivered=delivered,
                delay=delay,
                error=repr(exc),
            )
            await msg.nak(delay=delay)
            return
        log.error(
            "event_dead_lettered",
            consumer=durable,
            subject=msg.subject,
            delivered=delivered,
            error=repr(exc),
        )
        async with sessions() as session:
            session.add(
                DeadLetter(
                    consumer=durable,
                    subject=msg.subject,
                    event_id=(msg.headers or {}).get("ce-id"),
                    deliveries=delivered,
                    error=repr(exc)[:4000],
                    headers=json.dumps(msg.headers or {}),
                    payload=msg.data,
                )
            )
            await session.commit()
        DEAD_LETTERS.labels(durable).inc()
        await msg.term()

    return ConsumerSpec(
        durable=durable,
        stream=stream,
        subjects=subjects,
        process=process,
        ack_wait_seconds=ack_wait_seconds,
    )
