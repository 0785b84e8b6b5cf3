"""Silences: mute notifications of matching alerts for a while (alerts are still recorded)."""

from __future__ import annotations

import uuid
from datetime import datetime

from channel_common import (
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    decode_keyset,
    keyset_page,
    refuse_partner_bound,
    utcnow,
)

from .. import repo
from ..models import Silence
from ..schemas import SilenceCreate, SilenceRead
from .views import silence_read

__all__ = ["create_silence", "delete_silence", "get_silence", "list_silences"]


async def create_silence(
    session: SQLModelSession, *, data: SilenceCreate, actor: Principal
) -> SilenceRead:
    """Create a silence (starting now unless `starts_at` is given)."""
    refuse_partner_bound(actor, "manage silences")
    now = utcnow()
    starts_at = data.starts_at or now
    if starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise ValidationFailedError(
            "Timestamps need a time zone.",
            errors=[{"loc": ["body", "ends_at"], "msg": "RFC 3339 with a zone, e.g. Z"}],
        )
    if data.ends_at <= starts_at:
        raise ValidationFailedError(
            "A silence must end after it starts.",
            errors=[{"loc": ["body", "ends_at"], "msg": "must be after starts_at"}],
        )
    silence = Silence.model_validate(
        data.model_dump(), update={"starts_at": starts_at, "created_at": now}
    )
    session.add(silence)
    await session.flush()
    return silence_read(silence, now=now)


async def list_silences(
    session: SQLModelSession, *, params: PageParams, principal: Principal
) -> Page[SilenceRead]:
    """A page of silences, newest first (expired ones included, marked inactive)."""
    refuse_partner_bound(principal, "read silences")
    after = decode_keyset(params.cursor, datetime.fromisoformat, uuid.UUID)
    rows = await repo.silences_page(session, after=after, limit=params.fetch_limit)
    now = utcnow()
    return keyset_page(
        rows,
        limit=params.limit,
        key=lambda row: [row.created_at.isoformat(), str(row.id)],
        item=lambda silence: silence_read(silence, now=now),
    )


async def _silence(session: SQLModelSession, silence_id: uuid.UUID) -> Silence:
    silence = await session.get(Silence, silence_id)
    if silence is None:
        raise NotFoundError("Silence not found.")
    return silence


async def get_silence(
    session: SQLModelSession, *, silence_id: uuid.UUID, principal: Principal
) -> SilenceRead:
    """One silence (404 when unknown), marked active or not as of now."""
    refuse_partner_bound(principal, "read silences")
    return silence_read(await _silence(session, silence_id), now=utcnow())


async def delete_silence(
    session: SQLModelSession, *, silence_id: uuid.UUID, actor: Principal
) -> None:
    """Remove a silence: notifications flow again from now on."""
    refuse_partner_bound(actor, "manage silences")
    await session.delete(await _silence(session, silence_id))
    await session.flush()
