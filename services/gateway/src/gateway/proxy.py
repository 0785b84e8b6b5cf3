"""Routing by path prefix and the reverse proxy to the four services: a small ASGI app in front
of the router, speaking plain ASGI messages (no Request, no Response objects on the way)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import anyio
import httpx
import structlog
from asgi_correlation_id.context import correlation_id
from channel_common import DomainError, NotFoundError, ServiceUnavailableError, problem_response
from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import UPSTREAM_REQUESTS
from .settings import Settings
from .upstream import (
    Answer,
    PoolExhaustedError,
    UpstreamPool,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)

__all__ = [
    "ROUTES",
    "BadGatewayError",
    "GatewayTimeoutError",
    "ProxyMiddleware",
    "create_upstream_client",
    "service_for_path",
    "upstreams_ready",
]

ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/v1/partners", "partner"),
    ("/api/v1/tiers", "partner"),
    ("/api/v1/territories", "partner"),
    ("/api/v1/kpi-definitions", "kpi"),
    ("/api/v1/observations", "kpi"),
    ("/api/v1/kpis", "kpi"),
    ("/api/v1/targets", "kpi"),
    ("/api/v1/scorecards", "kpi"),
    ("/api/v1/rebate-", "rebate"),
    ("/api/v1/accruals", "rebate"),
    ("/api/v1/alert-rules", "alert"),
    ("/api/v1/alerts", "alert"),
    ("/api/v1/silences", "alert"),
    ("/api/v1/webhooks", "alert"),
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_ALLOW = {"Allow": ", ".join(sorted(_METHODS))}
# Bodies up to this size travel whole (one read, one write); larger or chunked ones stream.
SMALL_BODY_BYTES = 64 * 1024
# Hop-by-hop (RFC 9110 §7.6.1) plus what the gateway sets itself.
_REQUEST_DROPPED = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization",
        b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"expect",
        b"host", b"x-request-id", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
    }
)  # fmt: skip
# The server adds its own date/server, RequestContextMiddleware its own X-Request-ID.
_RESPONSE_DROPPED = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-connection", b"te",
        b"trailer", b"transfer-encoding", b"upgrade", b"date", b"server", b"x-request-id",
    }
)  # fmt: skip

log = structlog.get_logger(__name__)


class BadGatewayError(DomainError):
    status, code = 502, "bad-gateway"


class GatewayTimeoutError(DomainError):
    status, code = 504, "gateway-timeout"


class _MethodNotAllowedError(DomainError):
    status, code = 405, "method-not-allowed"


class _ClientGoneError(Exception):
    """The caller disconnected while its request body was on the way."""


@dataclass(frozen=True, slots=True)
class ProxyRoute:
    """What a router's route would be for the metrics: `path` is the route template label."""

    path: str
    name: str
    service: str


_TABLE = tuple(
    (prefix, ProxyRoute(prefix + "{path:path}", f"proxy:{prefix.rsplit('/', 1)[-1]}", service))
    for prefix, service in ROUTES
)


def service_for_path(path: str) -> str | None:
    """The service that serves `path`, or None when no prefix matches."""
    route = _route_for(path)
    return None if route is None else route.service


def _route_for(path: str) -> ProxyRoute | None:
    for prefix, route in _TABLE:
        if path.startswith(prefix):
            return route
    return None


def _names(value: bytes) -> set[bytes]:
    return {name.strip().lower() for name in value.split(b",") if name.strip()}


def _request_headers(scope: Scope) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The headers to send upstream, and whether the request carries a body."""
    incoming: list[tuple[bytes, bytes]] = scope["headers"]
    dropped = _REQUEST_DROPPED
    host = forwarded = b""
    has_body = False
    for name, value in incoming:
        if name == b"connection":
            dropped = dropped | _names(value)
        elif name == b"host":
            host = value
        elif name == b"x-forwarded-for":
            forwarded = value
        elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            has_body = True
    headers = [(k, v) for k, v in incoming if k not in dropped]
    client = scope.get("client")
    if client:
        forwarded = forwarded + b", " + client[0].encode() if forwarded else client[0].encode()
    request_id = correlation_id.get()
    if request_id:
        headers.append((b"x-request-id", request_id.encode("latin-1")))
    if forwarded:
        headers.append((b"x-forwarded-for", forwarded))
    headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
    if host:
        headers.append((b"x-forwarded-host", host))
    return headers, has_body


def _response_headers(headers: list[tuple[bytes, bytes]]) -> tuple[list[tuple[bytes, bytes]], int]:
    """The headers to send back, and the body's length (-1 when unknown)."""
    dropped = _RESPONSE_DROPPED
    length = -1
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"connection":
            dropped = dropped | _names(value)
        elif lowered == b"content-length" and value.isdigit():
            length = int(value)
    return [(k.lower(), v) for k, v in headers if k.lower() not in dropped], length


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (a small one)."""
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGoneError
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


class _BodyStream:
    """The request body as it arrives; remembers why it stopped early (the caller left, a
    guard refused it), since a client library may hide that behind its own error."""

    __slots__ = ("failure", "receive")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.failure: BaseException | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                message = await self.receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGoneError
                if chunk := message.get("body", b""):
                    yield chunk
                if not message.get("more_body", False):
                    return
        except (_ClientGoneError, HTTPException) as exc:
            self.failure = exc
            raise


class ProxyMiddleware:
    """Serves the proxied prefixes itself and hands every other path to the router. Innermost:
    request ids, trace context, body guards and auth have run."""

    def __init__(self, app: ASGIApp, *, settings: Settings, upstream: UpstreamPool) -> None:
        self.app = app
        self.upstream = upstream
        self.base_urls = settings.upstream_urls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route_for(scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # the metrics' route template, as the router would set it
        try:
            await self._forward(scope, receive, send, route.service)
        except DomainError as exc:
            response = problem_response(
                exc.status, exc.detail, code=exc.code, headers=exc.headers or None, **exc.extra
            )
            await response(scope, receive, send)
        except HTTPException as exc:  # a body guard's 413
            detail = exc.detail if isinstance(exc.detail, str) else None
            response = problem_response(exc.status_code, detail, headers=dict(exc.headers or {}))
            await response(scope, receive, send)
        except _ClientGoneError:
            log.info("client_disconnected", service=route.service, method=scope["method"])
            await send({"type": "http.response.start", "status": 499, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    async def _forward(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        method: str = scope["method"]
        if method not in _METHODS:
            raise _MethodNotAllowedError("Method Not Allowed", headers=_ALLOW)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if any(segment in (".", "..") for segment in scope["path"].split("/")):
            raise NotFoundError("Not Found")
        query: bytes = scope.get("query_string", b"")
        target = raw_path + b"?" + query if query else raw_path
        url = self.base_urls[service] + target.decode("latin-1")
        headers, has_body = _request_headers(scope)
        body, stream = await _body(headers, has_body, receive)
        started = time.perf_counter()
        answer = await self._send(service, method, url, headers, body, stream)
        try:
            UPSTREAM_REQUESTS.labels(service, "ok").inc()
            state = scope.get("state")
            principal = state.get("principal") if state else None
            log.info(
                "proxied",
                service=service,
                method=method,
                path=scope["path"],
                status=answer.status,
                principal=principal.subject if principal else None,
                elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            await _relay(answer, service, receive, send)
        finally:
            await answer.aclose()

    async def _send(
        self,
        service: str,
        method: str,
        url: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes | _BodyStream | None,
        stream: _BodyStream | None,
    ) -> Answer:
        """The service's answer, or the error to answer the caller with (counted, logged)."""
        try:
            return await self.upstream.send(method, url, headers, body)
        except PoolExhaustedError as exc:
            UPSTREAM_REQUESTS.labels(service, "timeout").inc()
            log.warning("upstream_pool_exhausted", service=service)
            raise ServiceUnavailableError(f"Too many requests in flight to {service}.") from exc
        except (UpstreamTimeoutError, UpstreamUnreachableError) as exc:
            if stream is not None and stream.failure is not None:
                raise stream.failure from exc  # the caller left, or a guard refused the body
            if isinstance(exc, UpstreamTimeoutError):
                UPSTREAM_REQUESTS.labels(service, "timeout").inc()
                log.warning("upstream_timeout", service=service, error=str(exc))
                raise GatewayTimeoutError(f"The {service} service did not answer in time.") from exc
            UPSTREAM_REQUESTS.labels(service, "error").inc()
            log.warning("upstream_unreachable", service=service, error=str(exc))
            raise BadGatewayError(f"The {service} service cannot be reached.") from exc


async def _body(
    headers: list[tuple[bytes, bytes]], has_body: bool, receive: Receive
) -> tuple[bytes | _BodyStream | None, _BodyStream | None]:
    """A small body read whole; a large or chunked one as a stream (and that stream)."""
    if not has_body:
        return None, None
    length = next((v for k, v in headers if k == b"content-length"), None)
    if length is not None and length.isdigit() and int(length) <= SMALL_BODY_BYTES:
        return await _read_body(receive), None
    stream = _BodyStream(receive)
    return stream, stream


async def _relay(answer: Answer, service: str, receive: Receive, send: Send) -> None:
    """The answer back to the caller: whole when small, else chunk by chunk until the caller
    leaves or the body ends."""
    headers, length = _response_headers(answer.headers)
    start: Message = {"type": "http.response.start", "status": answer.status, "headers": headers}
    try:
        if 0 <= length <= SMALL_BODY_BYTES:
            body = await answer.read()
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await send(start)
        async with anyio.create_task_group() as group:
            group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
            async for chunk in answer.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            group.cancel_scope.cancel()
    except (UpstreamTimeoutError, UpstreamUnreachableError) as exc:
        # Headers may be out: all we can do is cut the body short.
        log.warning("upstream_body_broken", service=service, error=str(exc))
        raise


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


def create_upstream_client(settings: Settings) -> httpx.AsyncClient:
    """The client of the readiness probes and the OpenAPI documents (not of proxied calls)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
        ),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        follow_redirects=False,
        trust_env=False,
    )


async def _upstream_ready(
    client: httpx.AsyncClient, service: str, url: str, probe_seconds: float
) -> bool:
    try:
        response = await client.get(f"{url}/readyz", timeout=probe_seconds)
    except httpx.HTTPError as exc:
        log.warning("upstream_not_ready", service=service, error=repr(exc))
        return False
    if response.status_code != 200:
        log.warning("upstream_not_ready", service=service, status=response.status_code)
    return response.status_code == 200


async def upstreams_ready(request: Request) -> bool:
    """Readiness check: every upstream's /readyz answers 200 (asked concurrently)."""
    settings: Settings = request.app.state.settings
    client: httpx.AsyncClient = request.app.state.upstream_client
    timeout = settings.upstream_probe_timeout_seconds
    answers = await asyncio.gather(
        *(_upstream_ready(client, s, url, timeout) for s, url in settings.upstream_urls.items())
    )
    return all(answers)
