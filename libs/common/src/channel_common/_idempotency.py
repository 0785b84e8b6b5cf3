"""`Idempotency-Key` for POSTs: claim the key, replay the stored answer, refuse a changed body."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.responses import Response

from ._db import SQLModelSession, utcnow
from ._errors import ConflictError, ValidationFailedError
from ._tables import IdempotencyRecord

__all__ = ["IdempotencyClaim", "claim_key", "complete_claim", "release_claim", "request_hash"]

REPLAY_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True)
class IdempotencyClaim:
    """A key this request holds until it completes or fails."""

    principal: str
    key: str


def request_hash(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same" for one key."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def claim_key(
    sessions: async_sessionmaker[SQLModelSession],
    *,
    principal: str,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    lock: timedelta,
) -> IdempotencyClaim | Response:
    """Claim `key` for this request, or the stored response to replay; 409/422 otherwise."""
    now = utcnow()
    for _attempt in range(3):
        async with sessions() as session:
            record = await session.get(IdempotencyRecord, (principal, key))
            if record is not None and record.created_at < now - ttl:
                await session.delete(record)
                await session.commit()
                continue
            if record is None:
                session.add(
                    IdempotencyRecord(
                        principal=principal,
                        key=key,
                        request_hash=fingerprint,
                        locked_until=now + lock,
                    )
                )
                try:
                    await session.commit()
                except IntegrityError:
                    continue  # another request claimed it first: read its record
                return IdempotencyClaim(principal, key)
            if record.request_hash != fingerprint:
                raise ValidationFailedError(
                    "This Idempotency-Key was used with a different request.",
                    errors=[
                        {"loc": ["header", "Idempotency-Key"], "msg": "reused with another body"}
                    ],
                )
            if record.status_code is not None:
                return _replay(record)
            if record.locked_until is not None and record.locked_until > now:
                raise ConflictError("A request with this Idempotency-Key is still in progress.")
            # The first attempt died before committing anything: take the key over.
            record.locked_until = now + lock
            await session.commit()
            return IdempotencyClaim(principal, key)
    raise ConflictError("A request with this Idempotency-Key is still in progress.")


def _replay(record: IdempotencyRecord) -> Response:
    headers = json.loads(record.headers or "{}")
    headers[REPLAY_HEADER] = "true"
    return Response(
        content=record.body or b"", status_code=record.status_code or 200, headers=headers
    )


async def complete_claim(
    session: SQLModelSession, *, claim: IdempotencyClaim, response: Response
) -> None:
    """Store the response in the request's own transaction, so it commits with the effect."""
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.principal == claim.principal,  # type: ignore[arg-type]
            IdempotencyRecord.key == claim.key,  # type: ignore[arg-type]
        )
        .values(
            status_code=response.status_code,
            headers=json.dumps(headers),
            body=bytes(response.body),
            locked_until=None,
        )
    )


async def release_claim(
    sessions: async_sessionmaker[SQLModelSession], *, claim: IdempotencyClaim
) -> None:
    """Forget a claim whose request failed, so a retry runs again."""
    async with sessions() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.principal == claim.principal,  # type: ignore[arg-type]
                IdempotencyRecord.key == claim.key,  # type: ignore[arg-type]
            )
        )
        await session.commit()
