"""Routing by path prefix and the streaming reverse proxy to the four services."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import structlog
from asgi_correlation_id.context import correlation_id
from channel_common import DomainError, NotFoundError, ServiceUnavailableError
from fastapi import APIRouter, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .metrics import UPSTREAM_REQUESTS
from .settings import Settings

__all__ = [
    "ROUTES",
    "BadGatewayError",
    "GatewayTimeoutError",
    "create_upstream_client",
    "proxy_router",
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
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Hop-by-hop (RFC 9110 §7.6.1) plus what the gateway sets itself.
_REQUEST_DROPPED = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade", "expect", "host",
        "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
    }
)  # fmt: skip
# The server adds its own date/server, CorrelationIdMiddleware its own X-Request-ID.
_RESPONSE_DROPPED = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade", "date", "server", "x-request-id",
    }
)  # fmt: skip

log = structlog.get_logger(__name__)


class BadGatewayError(DomainError):
    status, code = 502, "bad-gateway"


class GatewayTimeoutError(DomainError):
    status, code = 504, "gateway-timeout"


def service_for_path(path: str) -> str | None:
    """The service that serves `path`, or None when no prefix matches."""
    return next((service for prefix, service in ROUTES if path.startswith(prefix)), None)


def create_upstream_client(settings: Settings) -> httpx.AsyncClient:
    """The one client every proxied call shares: pooled, bounded in time, without cookies."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
        ),
        limits=httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_connections,
        ),
        # A shared client must not carry one caller's cookies to the next.
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        follow_redirects=False,
        trust_env=False,
    )


def _header_names(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",") if name.strip()}


def _request_headers(request: Request) -> list[tuple[bytes, bytes]]:
    dropped = _REQUEST_DROPPED | _header_names(request.headers.get("connection", ""))
    headers = [(k, v) for k, v in request.scope["headers"] if k.decode("latin-1") not in dropped]
    client = request.client.host if request.client else None
    forwarded_for = ", ".join(
        part for part in (request.headers.get("x-forwarded-for"), client) if part
    )
    extra = {
        "x-request-id": correlation_id.get() or "",
        "x-forwarded-for": forwarded_for,
        "x-forwarded-proto": request.url.scheme,
        "x-forwarded-host": request.headers.get("host", ""),
    }
    headers += [(k.encode(), v.encode("latin-1")) for k, v in extra.items() if v]
    return headers


def _response_headers(upstream: httpx.Response) -> list[tuple[bytes, bytes]]:
    dropped = _RESPONSE_DROPPED | _header_names(upstream.headers.get("connection", ""))
    return [(k, v) for k, v in upstream.headers.raw if k.decode("latin-1").lower() not in dropped]


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in request.headers


async def _request_body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def _relay(upstream: httpx.Response, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.TransportError as exc:  # headers are out: all we can do is cut the body short
        log.warning("upstream_body_broken", service=service, error=repr(exc))
        raise


class _UpstreamResponse(StreamingResponse):
    """The upstream's status, headers and raw body bytes; its connection goes back to the pool
    however the sending ends (a client that goes away included)."""

    def __init__(self, upstream: httpx.Response, service: str) -> None:
        super().__init__(_relay(upstream, service), status_code=upstream.status_code)
        self.raw_headers = _response_headers(upstream)
        self._upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._upstream.aclose()


async def forward(request: Request, service: str) -> Response:
    """Send `request` to `service` as is and stream its answer back."""
    if any(segment in (".", "..") for segment in request.url.path.split("/")):
        raise NotFoundError("Not Found")
    settings: Settings = request.app.state.settings
    client: httpx.AsyncClient = request.app.state.upstream_client
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    url = settings.upstream_urls[service] + raw_path.decode("latin-1")
    query: bytes = request.scope.get("query_string", b"")
    outgoing = client.build_request(
        request.method,
        url + ("?" + query.decode("latin-1") if query else ""),
        headers=_request_headers(request),
        content=_request_body(request) if _has_body(request) else None,
    )
    started = time.perf_counter()
    try:
        upstream = await client.send(outgoing, stream=True)
    except ClientDisconnect:
        log.info("client_disconnected", service=service, method=request.method)
        return Response(status_code=499)  # nobody reads it; nginx's code for the access log
    except httpx.PoolTimeout as exc:
        UPSTREAM_REQUESTS.labels(service, "timeout").inc()
        log.warning("upstream_pool_exhausted", service=service)
        raise ServiceUnavailableError(f"Too many requests in flight to {service}.") from exc
    except httpx.TimeoutException as exc:
        UPSTREAM_REQUESTS.labels(service, "timeout").inc()
        log.warning("upstream_timeout", service=service, error=type(exc).__name__)
        raise GatewayTimeoutError(f"The {service} service did not answer in time.") from exc
    except httpx.TransportError as exc:
        UPSTREAM_REQUESTS.labels(service, "error").inc()
        log.warning("upstream_unreachable", service=service, error=repr(exc))
        raise BadGatewayError(f"The {service} service cannot be reached.") from exc
    UPSTREAM_REQUESTS.labels(service, "ok").inc()
    principal = getattr(request.state, "principal", None)
    log.info(
        "proxied",
        service=service,
        method=request.method,
        path=request.url.path,
        status=upstream.status_code,
        principal=principal.subject if principal else None,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return _UpstreamResponse(upstream, service)


def _endpoint(service: str) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def proxy(request: Request) -> Response:
        return await forward(request, service)

    proxy.__doc__ = f"Forward to the {service} service."
    return proxy


def _build_router() -> APIRouter:
    router = APIRouter()
    for prefix, service in ROUTES:
        router.add_api_route(
            prefix + "{path:path}",
            _endpoint(service),
            methods=_METHODS,
            include_in_schema=False,
            name=f"proxy:{prefix.rsplit('/', 1)[-1]}",
        )
    return router


proxy_router = _build_router()


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
