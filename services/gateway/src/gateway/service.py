"""API-key rules: create, list, revoke, authenticate, and the bootstrap admin key."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from datetime import datetime
from typing import NamedTuple

import structlog
from channel_common import (
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    decode_keyset,
    keyset_page,
    read_session,
    utcnow,
)
from sqlalchemy.ext.asyncio import async_sessionmaker

from . import repo
from .keycache import ApiKeyCache
from .models import ApiKey
from .schemas import ApiKeyCreate, ApiKeyRead
from .settings import API_KEY_PREFIX
from .tokens import TokenMinter

__all__ = [
    "CreatedApiKey",
    "authenticate_api_key",
    "create_api_key",
    "ensure_bootstrap_key",
    "get_api_key",
    "hash_api_key",
    "list_api_keys",
    "revoke_api_key",
]

BOOTSTRAP_NAME = "bootstrap"
_DISPLAY_PREFIX_LENGTH = len(API_KEY_PREFIX) + 8
_MAX_KEY_LENGTH = 200
log = structlog.get_logger(__name__)


class CreatedApiKey(NamedTuple):
    """A stored key and its secret, which exists only in this answer."""

    api_key: ApiKey
    secret: str


def hash_api_key(secret: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_row(*, name: str, scopes: list[str], partner_id: uuid.UUID | None, secret: str) -> ApiKey:
    return ApiKey.model_validate(
        {
            "name": name,
            "scopes": " ".join(sorted(set(scopes))),
            "partner_id": partner_id,
            "key_hash": hash_api_key(secret),
            "prefix": secret[:_DISPLAY_PREFIX_LENGTH],
        }
    )


async def create_api_key(
    session: SQLModelSession, *, data: ApiKeyCreate, actor: Principal
) -> CreatedApiKey:
    """Store a new key for `data`; the secret is returned once and only its hash is kept."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = _new_row(name=data.name, scopes=data.scopes, partner_id=data.partner_id, secret=secret)
    api_key = await repo.add_api_key(session, api_key=row)
    log.info("api_key_created", key_id=str(api_key.id), actor=actor.subject, scopes=api_key.scopes)
    return CreatedApiKey(api_key, secret)


async def get_api_key(session: SQLModelSession, *, key_id: uuid.UUID) -> ApiKey:
    """The key with `key_id`; 404 when there is none."""
    api_key = await repo.get_api_key(session, key_id=key_id)
    if api_key is None:
        raise NotFoundError("API key not found.")
    return api_key


async def list_api_keys(session: SQLModelSession, *, params: PageParams) -> Page[ApiKeyRead]:
    """A page of keys, oldest first, revoked ones included (never their secrets)."""
    rows = await repo.list_api_keys(
        session,
        after=decode_keyset(params.cursor, datetime.fromisoformat, uuid.UUID),
        limit=params.fetch_limit,
    )
    return keyset_page(
        rows,
        limit=params.limit,
        key=lambda row: [row.created_at.isoformat(), str(row.id)],
        item=ApiKeyRead.model_validate,
    )


async def revoke_api_key(
    session: SQLModelSession,
    *,
    key_id: uuid.UUID,
    actor: Principal,
    tokens: TokenMinter,
    keys: ApiKeyCache,
) -> ApiKey:
    """Revoke a key (idempotent): it authenticates nothing from then on (on this replica at
    once, on others when their cached copy expires)."""
    api_key = await get_api_key(session, key_id=key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.add(api_key)
        await session.flush()
        log.info("api_key_revoked", key_id=str(key_id), actor=actor.subject)
    tokens.forget(key_id)
    keys.revoke(key_id)
    return api_key


async def authenticate_api_key(
    sessions: async_sessionmaker[SQLModelSession], *, secret: str, keys: ApiKeyCache
) -> ApiKey | None:
    """The active key whose secret is `secret`, or None (unknown, malformed or revoked): from
    `keys` while it holds the key, else from the database (and then kept in `keys`)."""
    if not secret.startswith(API_KEY_PREFIX) or len(secret) > _MAX_KEY_LENGTH:
        return None
    key_hash = hash_api_key(secret)
    cached = keys.get(key_hash)
    if cached is not None:
        return cached
    looked_up_at = time.monotonic()
    async with read_session(sessions) as session:
        api_key = await repo.find_active_api_key(session, key_hash=key_hash)
    if api_key is not None:
        keys.put(key_hash, api_key, looked_up_at=looked_up_at)
    return api_key


async def ensure_bootstrap_key(session: SQLModelSession, *, secret: str) -> bool:
    """Insert `secret` as an admin key named "bootstrap" unless a key with its hash exists
    (a revoked bootstrap key stays revoked). Whether a key was added."""
    if await repo.has_api_key(session, key_hash=hash_api_key(secret)):
        return False
    row = _new_row(name=BOOTSTRAP_NAME, scopes=["admin"], partner_id=None, secret=secret)
    api_key = await repo.add_api_key(session, api_key=row)
    log.info("api_key_bootstrapped", key_id=str(api_key.id))
    return True
