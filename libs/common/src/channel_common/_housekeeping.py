"""Housekeeping: deletes infrastructure rows nobody needs any more, in bounded batches.

Sent outbox rows are kept a while (to inspect, or to republish after a broker lost its data);
idempotency records go when their replay window has passed. Inbox entries stay: the streams keep
every event, so a replayed stream must still find every applied event id."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import async_sessionmaker

from ._db import SQLModelSession, utcnow
from ._metrics import HOUSEKEEPING_DELETED
from ._settings import BaseServiceSettings
from ._tables import IdempotencyRecord, OutboxMessage

__all__ = ["Retention", "prune", "run_housekeeping"]

log = structlog.get_logger(__name__)
TABLES = ("outbox", "idempotency_keys")
FIRST_ROUND_SECONDS = 60.0
for _table in TABLES:
    HOUSEKEEPING_DELETED.labels(_table)  # every series exists from the start, at 0


@dataclass(frozen=True)
class Retention:
    """How long each infrastructure table keeps a row once it is finished with."""

    outbox: timedelta
    idempotency: timedelta

    @classmethod
    def from_settings(cls, settings: BaseServiceSettings) -> Retention:
        return cls(
            outbox=timedelta(days=settings.outbox_retention_days),
            idempotency=timedelta(hours=settings.idempotency_ttl_hours),
        )


def _expired(retention: Retention, now: datetime) -> list[tuple[str, Any, Any, Any]]:
    """Per table: its name, model, primary key and the condition of a row that may go."""
    return [
        (
            "outbox",
            OutboxMessage,
            OutboxMessage.seq,
            OutboxMessage.sent_at < now - retention.outbox,  # type: ignore[operator]
        ),
        (
            "idempotency_keys",
            IdempotencyRecord,
            tuple_(IdempotencyRecord.principal, IdempotencyRecord.key),
            IdempotencyRecord.created_at < now - retention.idempotency,
        ),
    ]


async def prune(
    sessions: async_sessionmaker[SQLModelSession],
    retention: Retention,
    *,
    batch_size: int = 5_000,
    now: datetime | None = None,
) -> dict[str, int]:
    """Delete every expired row, `batch_size` per transaction; returns the count per table."""
    deleted = dict.fromkeys(TABLES, 0)
    for table, model, key, expired in _expired(retention, now or utcnow()):
        batch = select(*getattr(key, "clauses", [key])).where(expired).limit(batch_size)
        while True:
            async with sessions() as session:
                result = await session.execute(delete(model).where(key.in_(batch)))
                await session.commit()
            count = int(result.rowcount)  # type: ignore[attr-defined]
            deleted[table] += count
            HOUSEKEEPING_DELETED.labels(table).inc(count)
            if count < batch_size:
                break
    return deleted


async def run_housekeeping(
    sessions: async_sessionmaker[SQLModelSession], retention: Retention, interval_seconds: float
) -> None:
    """Prune a minute after start (not amid start-up) and then every `interval_seconds`,
    until cancelled; a failure waits for the next round."""
    await asyncio.sleep(min(FIRST_ROUND_SECONDS, interval_seconds))
    while True:
        try:
            deleted = await prune(sessions, retention)
            if any(deleted.values()):
                log.info("housekeeping_pruned", **deleted)
        except Exception as exc:
            log.warning("housekeeping_failed", error=str(exc))
        await asyncio.sleep(interval_seconds)
