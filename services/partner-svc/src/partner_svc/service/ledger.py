"""The partner history: a hash chain per partner, recorded with every change and verifiable.

Each entry stores the hash of the partner's previous entry (`prev_hash`, a run of zeros for the
first) and its own `hash`: SHA-256 over the canonical JSON of its content, `prev_hash` included.
Changing, removing or reordering any stored entry breaks the chain from that entry on.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from channel_common import (
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    cursor_int,
    decode_keyset,
    keyset_page,
)

from .. import repo
from ..models import HistoryEntry
from ..schemas import ChainVerification, HistoryEntryRead
from .access import visible_partner

__all__ = [
    "GENESIS_HASH",
    "canonical_json",
    "entry_hash",
    "entry_read",
    "list_history",
    "record",
    "verify",
    "verify_history",
]

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _timestamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_hash(entry: HistoryEntry) -> str:
    """The hash an entry must carry, recomputed from its stored content."""
    content = {
        "partner_id": str(entry.partner_id),
        "position": entry.position,
        "action": entry.action,
        "actor": entry.actor,
        "reason": entry.reason,
        "at": _timestamp(entry.at),
        "version": entry.version,
        "before": None if entry.before is None else json.loads(entry.before),
        "after": json.loads(entry.after),
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


async def record(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    version: int,
    action: str,
    actor: str,
    reason: str | None,
    at: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> HistoryEntry:
    """Append an entry to the partner's chain (the caller holds the partner's row lock)."""
    last = await repo.last_history_entry(session, partner_id=partner_id)
    entry = HistoryEntry(
        partner_id=partner_id,
        position=1 if last is None else last.position + 1,
        action=action,
        actor=actor,
        reason=reason,
        at=at,
        version=version,
        before=None if before is None else canonical_json(before),
        after=canonical_json(after),
        prev_hash=GENESIS_HASH if last is None else last.hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    await session.flush()
    return entry


def entry_read(entry: HistoryEntry) -> HistoryEntryRead:
    """The API view of an entry."""
    return HistoryEntryRead(
        position=entry.position,
        action=entry.action,
        actor=entry.actor,
        reason=entry.reason,
        at=entry.at,
        version=entry.version,
        before=None if entry.before is None else json.loads(entry.before),
        after=json.loads(entry.after),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


async def verify(
    session: SQLModelSession, *, partner_id: uuid.UUID, current_version: int
) -> ChainVerification:
    """Recompute the partner's chain; `broken_at` is the position of the first bad entry.

    The newest entry must also describe the partner's current version, so entries cut off
    the end of the chain are noticed too (`broken_at` is then the first missing position).
    """
    entries = await repo.history_entries(session, partner_id=partner_id)
    expected_prev = GENESIS_HASH
    for expected_position, entry in enumerate(entries, start=1):
        intact = (
            entry.position == expected_position
            and entry.prev_hash == expected_prev
            and _hash_matches(entry)
        )
        if not intact:
            return ChainVerification(valid=False, entries=len(entries), broken_at=entry.position)
        expected_prev = entry.hash
    if not entries or entries[-1].version != current_version:
        return ChainVerification(valid=False, entries=len(entries), broken_at=len(entries) + 1)
    return ChainVerification(valid=True, entries=len(entries), broken_at=None)


def _hash_matches(entry: HistoryEntry) -> bool:
    try:
        return entry_hash(entry) == entry.hash
    except (ValueError, TypeError):  # a stored JSON text that no longer parses
        return False


async def list_history(
    session: SQLModelSession, *, partner_id: uuid.UUID, params: PageParams, principal: Principal
) -> Page[HistoryEntryRead]:
    """A page of the partner's history, oldest first."""
    await visible_partner(session, partner_id=partner_id, principal=principal)
    (after,) = decode_keyset(params.cursor, cursor_int) or (0,)
    rows = await repo.history_entries(
        session, partner_id=partner_id, after_position=after, limit=params.fetch_limit
    )
    return keyset_page(rows, limit=params.limit, key=lambda row: [row.position], item=entry_read)


async def verify_history(
    session: SQLModelSession, *, partner_id: uuid.UUID, principal: Principal
) -> ChainVerification:
    """Recompute the partner's hash chain."""
    partner = await visible_partner(session, partner_id=partner_id, principal=principal)
    return await verify(session, partner_id=partner.id, current_version=partner.version)
