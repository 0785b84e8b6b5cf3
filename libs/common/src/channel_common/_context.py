"""The outermost middleware of every service: a request's id, trace context, metrics and log
line in one pass (pure ASGI: no per-request objects beyond one `send` wrapper)."""

from __future__ import annotations

import logging
import re
import uuid
from time import perf_counter

import structlog
from asgi_correlation_id.context import correlation_id
from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._logging import bind_trace, reset_trace
from ._metrics import HTTP_DURATION

__all__ = ["RequestContextMiddleware"]

log = structlog.get_logger(__name__)
# What asgi-correlation-id, which this replaces, logged for an invalid id.
_replaced = logging.getLogger("asgi_correlation_id")
_HEADER = b"x-request-id"
# Callers' request ids that are safe to log and echo (not only UUIDs).
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes would drown the log.
_QUIET_ROUTES = frozenset({"/livez", "/readyz", "/metrics"})


class RequestContextMiddleware:
    """Per HTTP request: takes the caller's valid `X-Request-ID` or makes one (the request's
    headers carry it on, the response echoes it, logs carry it); puts the request in the trace
    context of its `traceparent`; then times it into `http_server_request_duration_seconds`
    and logs `http_request`, both labelled by route template (never the raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The histogram's children by (route, method, status): `labels()` takes a lock and
        # checks the labels on every call.
        self._timers: dict[tuple[str, str, int], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        given: bytes | None = None
        traceparent: bytes | None = None
        for key, value in scope["headers"]:
            if key == _HEADER:
                given = value if given is None else given
            elif key == b"traceparent" and traceparent is None:
                traceparent = value
        request_id = _request_id(scope, given)
        correlation_id.set(request_id)
        echoed = (_HEADER, request_id.encode("latin-1"))
        token = bind_trace(None if traceparent is None else traceparent.decode("latin-1"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, perf_counter() - started)
            reset_trace(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method: str = scope["method"]
        key = (route, method, status)
        timer = self._timers.get(key)
        if timer is None:
            timer = self._timers[key] = HTTP_DURATION.labels(route, method, str(status))
        timer.observe(elapsed)
        if route not in _QUIET_ROUTES:
            duration_ms = round(elapsed * 1000, 2)
            log.info(
                "http_request", method=method, route=route, status=status, duration_ms=duration_ms
            )


def _request_id(scope: Scope, given: bytes | None) -> str:
    """The caller's request id when valid; else a new one, which the request's headers carry
    from here on (the gateway forwards it upstream)."""
    value = None if given is None else given.decode("latin-1")
    if value and _VALID_ID.fullmatch(value):
        return value
    made = uuid.uuid4().hex
    if value:
        _replaced.warning(
            "Generated new request ID (%s), since request header value failed validation", made
        )
    kept = [(k, v) for k, v in scope["headers"] if k != _HEADER]
    scope["headers"] = [*kept, (_HEADER, made.encode())]
    return made
