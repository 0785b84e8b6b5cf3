"""The route class every service router uses: JSON bodies read exactly (numbers as `Decimal`),
one session per request, committed before the response leaves, and `Idempotency-Key` handling
for POSTs."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from ._auth import JWTVerifier
from ._db import SQLModelSession
from ._errors import DomainError, UnauthorizedError, ValidationFailedError, problem_response
from ._idempotency import claim_key, complete_claim, release_claim, request_hash
from ._settings import BaseServiceSettings

__all__ = [
    "IDEMPOTENCY_HEADER",
    "ServiceRoute",
    "SessionDep",
    "check_key_length",
    "current_session",
    "principal_key",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
_MAX_KEY_LENGTH = 200


_SESSION_KEY = "channel_common.session"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def current_session(request: Request) -> SQLModelSession:
    """The request's session (opened and committed by `ServiceRoute`)."""
    # Kept in the request's own scope: `scope["state"]` may be shared between requests.
    session: SQLModelSession = request.scope[_SESSION_KEY]
    return session


SessionDep = Annotated[SQLModelSession, Depends(current_session)]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class ServiceRoute(APIRoute):
    """Opens the session, commits it when the endpoint succeeds, before the response is sent.

    JSON bodies keep numbers exact: FastAPI would parse them with plain `json.loads` (`0.1`
    becomes a float); pre-filling the request's parsed JSON makes every number a `Decimal` from
    the first byte. A body that is not valid JSON is left to FastAPI, which answers 400."""

    def get_route_handler(self) -> Handler:
        """Wrap FastAPI's handler with exact parsing, the unit of work and idempotency."""
        handler = super().get_route_handler()

        async def unit_of_work(request: Request) -> Response:
            if request.method in _BODY_METHODS:
                await _parse_exactly(request)
            key = request.headers.get(IDEMPOTENCY_HEADER)
            if request.method == "POST" and key is not None:
                try:
                    return await _idempotent(request, key, handler)
                except DomainError as exc:
                    return problem_response(
                        exc.status,
                        exc.detail,
                        code=exc.code,
                        headers=exc.headers or None,
                        **exc.extra,
                    )
            return await _in_session(request, handler)

        return unit_of_work


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


async def _in_session(request: Request, handler: Handler, claim: Any = None) -> Response:
    async with request.app.state.sessions() as session:
        request.scope[_SESSION_KEY] = session
        response = await handler(request)
        if response.status_code < 400:
            if claim is not None:
                await complete_claim(session, claim=claim, response=response)
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
    try:
        response = await _in_session(request, handler, claimed)
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
