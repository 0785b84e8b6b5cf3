"""The route classes every service router uses: one session per request, committed before the
response leaves, and `Idempotency-Key` handling for POSTs. `ServiceRoute` reads JSON bodies
exactly (numbers as `Decimal`); `StreamedRoute` leaves a streamed upload streamed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, NoReturn

import structlog
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Message, Receive

from ._auth import JWTVerifier
from ._db import SQLModelSession, read_session
from ._errors import (
    ConflictError,
    DomainError,
    UnauthorizedError,
    ValidationFailedError,
    problem_response,
)
from ._idempotency import IdempotencyClaim, claim_key, complete_claim, release_claim, request_hash
from ._settings import BaseServiceSettings
from ._tables import IdempotencyRecord

__all__ = [
    "IDEMPOTENCY_HEADER",
    "ServiceRoute",
    "SessionDep",
    "StreamedRoute",
    "check_key_length",
    "current_session",
    "principal_key",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
_MAX_KEY_LENGTH = 200


_SESSION_KEY = "channel_common.session"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Methods that only read: their unit of work takes no write lock on SQLite (see read_session).
_READ_METHODS = frozenset({"GET", "HEAD"})


def current_session(request: Request) -> SQLModelSession:
    """The request's session (opened and committed by `ServiceRoute`)."""
    # Kept in the request's own scope: `scope["state"]` may be shared between requests.
    session: SQLModelSession = request.scope[_SESSION_KEY]
    return session


SessionDep = Annotated[SQLModelSession, Depends(current_session)]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]
BeforeCommit = Callable[[SQLModelSession, Response], Awaitable[None]]
log = structlog.get_logger(__name__)


class ServiceRoute(APIRoute):
    """Opens the session, commits it when the endpoint succeeds, before the response is sent.

    JSON bodies keep numbers exact: FastAPI would parse them with plain `json.loads` (`0.1`
    becomes a float); pre-filling the request's parsed JSON makes every number a `Decimal` from
    the first byte. A body that is not valid JSON is left to FastAPI, which answers 400."""

    def get_route_handler(self) -> Handler:
        """Wrap FastAPI's handler with exact parsing, the unit of work and idempotency."""
        handler = super().get_route_handler()

        async def unit_of_work(request: Request) -> Response:
            await self.read_body(request)
            key = request.headers.get(IDEMPOTENCY_HEADER)
            if request.method != "POST" or key is None:
                return await _in_session(request, handler)
            try:
                return await self.run_idempotent(request, key, handler)
            except DomainError as exc:
                return problem_response(
                    exc.status, exc.detail, code=exc.code, headers=exc.headers or None, **exc.extra
                )

        return unit_of_work

    async def read_body(self, request: Request) -> None:
        """Parse a JSON body exactly before FastAPI does."""
        if request.method in _BODY_METHODS:
            await _parse_exactly(request)

    async def run_idempotent(self, request: Request, key: str, handler: Handler) -> Response:
        """Run a POST made with `Idempotency-Key`: once per key and body."""
        return await _idempotent(request, key, handler)


async def _parse_exactly(request: Request) -> None:
    body = await request.body()
    if not body:
        return
    try:
        parsed = json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError:
        return
    setattr(request, "_json", parsed)  # noqa: B010 (Starlette's cache of request.json())


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


async def _in_session(
    request: Request, handler: Handler, before_commit: BeforeCommit | None = None
) -> Response:
    """The unit of work: one session, committed when the endpoint succeeds."""
    sessions = request.app.state.sessions
    opened = read_session(sessions) if request.method in _READ_METHODS else sessions()
    async with opened as session:
        request.scope[_SESSION_KEY] = session
        response = await handler(request)
        if response.status_code < 400:
            if before_commit is not None:
                await before_commit(session, response)
            await session.commit()
        return response


def check_key_length(key: str) -> None:
    """422 unless the `Idempotency-Key` is 1 to 200 characters."""
    if not 0 < len(key) <= _MAX_KEY_LENGTH:
        raise ValidationFailedError(
            "Idempotency-Key must be 1 to 200 characters.",
            errors=[{"loc": ["header", IDEMPOTENCY_HEADER], "msg": "1 to 200 characters"}],
        )


async def _idempotent(request: Request, key: str, handler: Handler) -> Response:
    check_key_length(key)
    principal = principal_key(request)
    if principal is None:  # the endpoint's own auth answers 401
        return await _in_session(request, handler)
    settings: BaseServiceSettings = request.app.state.settings
    body = await request.body()
    claimed = await claim_key(
        request.app.state.sessions,
        principal=principal,
        key=key,
        fingerprint=request_hash(request.method, request.url.path, request.url.query, body),
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        lock=timedelta(seconds=settings.idempotency_lock_seconds),
    )
    if isinstance(claimed, Response):
        return claimed

    async def complete(session: SQLModelSession, response: Response) -> None:
        await complete_claim(session, claim=claimed, response=response)

    try:
        response = await _in_session(request, handler, complete)
    except BaseException:
        await release_claim(request.app.state.sessions, claim=claimed)
        raise
    if response.status_code >= 400:
        await release_claim(request.app.state.sessions, claim=claimed)
    return response


def principal_key(request: Request) -> str | None:
    """The key of the request's bearer principal, or None without valid credentials (the
    endpoint's own auth then answers 401); idempotency keys are claimed before it runs."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    verifier: JWTVerifier = request.app.state.verifier
    try:
        return verifier.verify(token).key
    except UnauthorizedError:
        return None


# The fingerprint of a claim whose body is still being read (a real one is 64 hex digits).
_PENDING = "streaming"


class StreamedRoute(ServiceRoute):
    """`ServiceRoute`'s unit of work without reading the body up front (it is hashed whole
    first there), so a streamed upload stays streamed. `Idempotency-Key` means what it means
    for `ServiceRoute`: the key is claimed before the body is read, the body hashed as the
    endpoint streams it, and the answer stored with that hash; a key whose request has
    finished makes the body be read and compared. Subclasses may set `log_event` and
    `key_lock` (how long a claimed key waits for its upload)."""

    log_event: ClassVar[str] = "streamed_idempotency_key"

    def key_lock(self, settings: BaseServiceSettings) -> timedelta:
        """How long a claimed key stays locked while its request runs."""
        return timedelta(seconds=settings.idempotency_lock_seconds)

    async def read_body(self, request: Request) -> None:
        """Leave the body to the endpoint, which streams it."""

    async def run_idempotent(self, request: Request, key: str, handler: Handler) -> Response:
        """Claim the key, stream and hash the body, store the answer with the body's hash."""
        check_key_length(key)
        principal = principal_key(request)
        if principal is None:  # the endpoint's own auth answers 401
            return await _in_session(request, handler)
        settings: BaseServiceSettings = request.app.state.settings
        keys = _Keys(
            request.app.state.sessions,
            principal=principal,
            key=key,
            ttl=timedelta(hours=settings.idempotency_ttl_hours),
            lock=self.key_lock(settings),
        )
        body = _HashedBody(request.receive)
        try:
            claimed = await keys.claim(_PENDING)
        except ValidationFailedError:
            # The key's record holds a body's hash: its request has finished (or is another
            # route's). Only this body's hash can tell a replay from a reuse.
            return await self._replay(request, body, keys)
        except ConflictError:
            self._log_outcome(key, "in_progress")
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
        self._log_outcome(key, "ran" if response.status_code < 400 else "failed")
        return response

    async def _replay(self, request: Request, body: _HashedBody, keys: _Keys) -> Response:
        try:
            outcome = await keys.claim(await body.fingerprint(request))
        except ValidationFailedError:
            self._log_outcome(keys.key, "reused")
            raise
        if isinstance(outcome, Response):
            self._log_outcome(keys.key, "replayed")
            return outcome
        # The finished request's record expired or was dropped while this body was read; the
        # body is gone, so this request cannot run: the client sends it again.
        await release_claim(keys.sessions, claim=outcome)
        self._log_outcome(keys.key, "in_progress")
        raise ConflictError("The request with this Idempotency-Key changed state; send it again.")

    def _log_outcome(self, key: str, outcome: str) -> None:
        """Log what became of a keyed request (ran, failed, replayed, reused, in_progress)."""
        log.info(self.log_event, key=key, outcome=outcome)


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
