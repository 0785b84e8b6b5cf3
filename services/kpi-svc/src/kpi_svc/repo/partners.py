"""Queries of the partner replica."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from channel_common import SQLModelSession
from sqlmodel import col, select

from ..models import PARTNERS, Partner
from ._sql import chunked, dialect_insert


async def upsert_partner(session: SQLModelSession, *, values: dict[str, Any]) -> None:
    """Insert or replace a partner, unless the stored one has the same or a higher version."""
    statement = dialect_insert(session, PARTNERS).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[PARTNERS.c.id],
        set_={name: statement.excluded[name] for name in values if name != "id"},
        where=PARTNERS.c.version < statement.excluded.version,
    )
    await session.execute(statement)


async def get_partner(session: SQLModelSession, *, partner_id: uuid.UUID) -> Partner | None:
    """The replicated partner, if known."""
    return await session.get(Partner, partner_id)


async def partners_by_ids(
    session: SQLModelSession, *, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Partner]:
    """The known partners among `ids`."""
    found: dict[uuid.UUID, Partner] = {}
    for chunk in chunked(sorted(set(ids))):
        rows = (await session.exec(select(Partner).where(col(Partner.id).in_(chunk)))).all()
        found.update((row.id, row) for row in rows)
    return found
