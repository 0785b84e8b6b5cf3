"""Bulk outbox writes: thousands of events in one INSERT, in the caller's transaction.

`channel_common.add_event` adds one ORM object per event, which is too slow for a run of
100,000 statements; this writes the same rows with one executemany."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from channel_common import (
    OutboxMessage,
    SQLModelSession,
    build_headers,
    mark_outbox_pending,
    utcnow,
)

from .bulk import copy_rows

__all__ = ["add_events"]


async def add_events(
    session: SQLModelSession,
    *,
    event_type: str,
    source: str,
    events: Iterable[tuple[str | None, dict[str, Any]]],
) -> int:
    """Write `(subject, data)` events of one type into the outbox; how many were written."""
    now = utcnow()
    rows = []
    for subject, data in events:
        headers = build_headers(event_type=event_type, source=source, subject=subject)
        rows.append(
            {
                "event_id": headers["ce-id"],
                "subject": event_type,
                "headers": json.dumps(headers),
                "payload": json.dumps(data, separators=(",", ":")).encode(),
                "created_at": now,
            }
        )
    if not rows:
        return 0
    await copy_rows(session, table=OutboxMessage.__table__, rows=rows)  # type: ignore[attr-defined]
    mark_outbox_pending(session)
    return len(rows)
