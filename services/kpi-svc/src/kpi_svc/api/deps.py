"""What every kpi-svc router shares: route classes, principals, settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from channel_common import DomainError, Principal, ServiceRoute, SQLModelSession, require_scopes
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from ..settings import Settings

__all__ = [
    "ExactJsonRoute",
    "Reader",
    "SettingsDep",
    "StreamedRoute",
    "StreamedSessionDep",
    "UnsupportedMediaTypeError",
    "Writer",
]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Reader = Annotated[Principal, Depends(require_scopes("kpis:read"))]
Writer = Annotated[Principal, Depends(require_scopes("kpis:write"))]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


class UnsupportedMediaTypeError(DomainError):
    """The body's content type is not one the route takes."""

    status, code = 415, "unsupported-media-type"


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


class ExactJsonRoute(ServiceRoute):
    """`ServiceRoute` whose JSON bodies keep numbers exact: floats are read as `Decimal`.

    FastAPI parses bodies with `request.json()` (plain `json.loads`, so `0.1` becomes a float);
    pre-filling the request's parsed JSON keeps every value a decimal from the first byte.
    A body that is not valid JSON is left to FastAPI, which answers 400 as usual."""

    def get_route_handler(self) -> Handler:
        """Parse the body exactly, then run the unit of work."""
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            if request.method in _BODY_METHODS:
                body = await request.body()
                if body:
                    try:
                        parsed = json.loads(
                            body, parse_float=Decimal, parse_constant=_refuse_constant
                        )
                    except ValueError:
                        pass
                    else:
                        setattr(request, "_json", parsed)  # noqa: B010 (Starlette's cache)
            return await handler(request)

        return exact


_STREAMED_SESSION = "kpi_svc.streamed_session"


def _streamed_session(request: Request) -> SQLModelSession:
    session: SQLModelSession = request.scope[_STREAMED_SESSION]
    return session


# The session of a `StreamedRoute` request (`SessionDep` belongs to `ServiceRoute`).
StreamedSessionDep = Annotated[SQLModelSession, Depends(_streamed_session)]


class StreamedRoute(APIRoute):
    """One session per request, committed when the endpoint succeeds — without reading the
    body up front (`ServiceRoute` hashes the whole body for `Idempotency-Key`), so a streamed
    upload stays streamed. Retries are safe through the observations' ids instead."""

    def get_route_handler(self) -> Handler:
        """Wrap FastAPI's handler with the unit of work."""
        handler = super().get_route_handler()

        async def unit_of_work(request: Request) -> Response:
            async with request.app.state.sessions() as session:
                request.scope[_STREAMED_SESSION] = session
                response = await handler(request)
                if response.status_code < 400:
                    await session.commit()
                return response

        return unit_of_work
