"""`StreamedRoute`: the unit of work of a POST whose body is streamed, with `Idempotency-Key`
honoured although the body's hash is known only once the endpoint has read it all."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any

import structlog
from channel_common import (
    IDEMPOTENCY_HEADER,
    ConflictError,
    DomainError,
    IdempotencyClaim,
    IdempotencyRecord,
    SQLModelSession,
    ValidationFailedError,
    check_key_length,
    claim_key,
    complete_claim,
    principal_key,
    problem_response,
    release_claim,
    request_hash,
)
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Message, Receive

from ..settings import Settings

__all__ = ["StreamedRoute", "StreamedSessionDep"]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
BeforeCommit = Callable[[SQLModelSession, Response], Awaitable[None]]
log = structlog.get_logger(__name__)

_SESSION = "kpi_svc.streamed_session"
# The fingerprint of a claim whose body is still being read (a real one is 64 hex digits).
_PENDING = "streaming"


def _streamed_session(request: Request) -> SQLModelSession:
    session: SQLModelSession = request.scope[_SESSION]
    return session


# The session of a `StreamedRoute` request (`SessionDep` belongs to `ServiceRoute`).
StreamedSessionDep = Annotated[SQLModelSession, Depends(_streamed_session)]


class StreamedRoute(APIRoute):
    """One session per request, committed when the endpoint succeeds — without reading the
    body up front (`ServiceRoute` hashes the whole body first), so a streamed upload stays
    streamed. `Idempotency-Key` means what it means for `ServiceRoute`: the key is claimed
    before the body is read, the body hashed as the endpoint streams it, and the answer stored
    with that hash; a key whose request has finished makes the body be read and compared."""

    def get_route_handler(self) -> Handler:
        """Wrap FastAPI's handler with the unit of work and idempotency."""
        handler = super().get_route_handler()

        async def unit_of_work(request: Request) -> Response:
            key = request.headers.get(IDEMPOTENCY_HEADER)
            if request.method != "POST" or key is None:
                return await _in_session(request, handler)
            try:
                return await _idempotent(request, key, handler)
            except DomainError as exc:
                return problem_response(
                    exc.status, exc.detail, code=exc.code, headers=exc.headers or None, **exc.extra
                )

        return unit_of_work


async def _in_session(
    request: Request, handler: Handler, before_commit: BeforeCommit | None = None
) -> Response:
    async with request.app.state.sessions() as session:
        request.scope[_SESSION] = session
        response = await handler(request)
        if response.status_code < 400:
            if before_commit is not None:
                await before_commit(session, response)
            await session.commit()
        return response


class _HashedBody:
    """The request's ASGI `receive`, hashing the body on its way to the endpoint."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._digest = hashlib.sha256()
        self._complete = False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._digest.update(message.get("body", b""))
            self._complete = not message.get("more_body", False)
        return message

    async def fingerprint(self, request: Request) -> str:
        """What makes two requests "the same" (as `request_hash`, over the body's digest),
        reading — and dropping — whatever of the body the endpoint left."""
        while not self._complete:
            if (await self())["type"] == "http.disconnect":
                raise ClientDisconnect()
        return request_hash(
            request.method, request.url.path, request.url.query, self._digest.digest()
        )


async def _idempotent(request: Request, key: str, handler: Handler) -> Response:
    check_key_length(key)
    principal = principal_key(request)
    if principal is None:  # the endpoint's own auth answers 401
        return await _in_session(request, handler)
    settings: Settings = request.app.state.settings
    keys = _Keys(
        request.app.state.sessions,
        principal=principal,
        key=key,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        lock=timedelta(seconds=settings.import_key_lock_seconds),
    )
    body = _HashedBody(request.receive)
    try:
        claimed = await keys.claim(_PENDING)
    except ValidationFailedError:
        # The key's record holds a body's hash: its request has finished (or is another
        # route's). Only this body's hash can tell a replay from a reuse.
        return await _replay(request, body, keys)
    except ConflictError:
        _log_outcome(key, "in_progress")
        raise
    if isinstance(claimed, Response):  # not expected: finished claims carry their hash
        return claimed

    async def complete(session: SQLModelSession, response: Response) -> None:
        fingerprint = await body.fingerprint(request)
        await complete_claim(session, claim=claimed, response=response)
        await session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.principal == claimed.principal,  # type: ignore[arg-type]
                IdempotencyRecord.key == claimed.key,  # type: ignore[arg-type]
            )
            .values(request_hash=fingerprint)
        )

    try:
        response = await _in_session(Request(request.scope, body), handler, complete)
    except BaseException:
        await release_claim(keys.sessions, claim=claimed)
        raise
    if response.status_code >= 400:
        await release_claim(keys.sessions, claim=claimed)
    _log_outcome(key, "ran" if response.status_code < 400 else "failed")
    return response


async def _replay(request: Request, body: _HashedBody, keys: _Keys) -> Response:
    try:
        outcome = await keys.claim(await body.fingerprint(request))
    except ValidationFailedError:
        _log_outcome(keys.key, "reused")
        raise
    if isinstance(outcome, Response):
        _log_outcome(keys.key, "replayed")
        return outcome
    # The finished request's record expired or was dropped while this body was read; the
    # body is gone, so this request cannot run: the client sends it again.
    await release_claim(keys.sessions, claim=outcome)
    _log_outcome(keys.key, "in_progress")
    raise ConflictError("The request with this Idempotency-Key changed state; send it again.")


class _Keys:
    """`claim_key` bound to one principal's key and the route's lifetimes."""

    def __init__(
        self,
        sessions: async_sessionmaker[SQLModelSession],
        *,
        principal: str,
        key: str,
        ttl: timedelta,
        lock: timedelta,
    ) -> None:
        self.sessions, self.principal, self.key = sessions, principal, key
        self._ttl, self._lock = ttl, lock

    async def claim(self, fingerprint: str) -> IdempotencyClaim | Response:
        """The key for this request, or the stored answer; 409 in flight, 422 reused."""
        return await claim_key(
            self.sessions,
            principal=self.principal,
            key=self.key,
            fingerprint=fingerprint,
            ttl=self._ttl,
            lock=self._lock,
        )


def _log_outcome(key: str, outcome: str) -> None:
    """Log what became of a keyed import (ran, failed, replayed, reused, in_progress)."""
    log.info("import_idempotency_key", key=key, outcome=outcome)
