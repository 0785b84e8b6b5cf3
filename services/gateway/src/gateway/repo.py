"""Every query of the gateway."""

from __future__ import annotations

import uuid
from datetime import datetime

from channel_common import SQLModelSession, keyset_after
from sqlmodel import col, select

from .models import ApiKey

__all__ = ["add_api_key", "find_active_api_key", "get_api_key", "has_api_key", "list_api_keys"]


async def add_api_key(session: SQLModelSession, *, api_key: ApiKey) -> ApiKey:
    """Insert `api_key` (flushed, not committed)."""
    session.add(api_key)
    await session.flush()
    return api_key


async def get_api_key(session: SQLModelSession, *, key_id: uuid.UUID) -> ApiKey | None:
    """The key with `key_id`, revoked or not."""
    api_key: ApiKey | None = await session.get(ApiKey, key_id)
    return api_key


async def find_active_api_key(session: SQLModelSession, *, key_hash: str) -> ApiKey | None:
    """The unrevoked key whose secret hashes to `key_hash`."""
    query = select(ApiKey).where(ApiKey.key_hash == key_hash, col(ApiKey.revoked_at).is_(None))
    api_key: ApiKey | None = (await session.exec(query)).first()
    return api_key


async def has_api_key(session: SQLModelSession, *, key_hash: str) -> bool:
    """Whether any key, revoked or not, hashes to `key_hash`."""
    query = select(ApiKey.id).where(ApiKey.key_hash == key_hash)
    return (await session.exec(query)).first() is not None


async def list_api_keys(
    session: SQLModelSession, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[ApiKey]:
    """Up to `limit` keys in (created_at, id) order, after the keyset `after`."""
    query = select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id)).limit(limit)
    if after is not None:
        query = query.where(keyset_after((col(ApiKey.created_at), col(ApiKey.id)), after))
    return list((await session.exec(query)).all())
