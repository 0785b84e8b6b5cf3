"""structlog JSON logs, one object per line, carrying the request id and the W3C trace id;
the trace context that events written within a request or an event handler carry on."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import sys
from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog
from asgi_correlation_id.context import correlation_id
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "TraceContextMiddleware",
    "child_traceparent",
    "configure_logging",
    "parse_traceparent",
    "trace_context",
]

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
# (trace id, flags) of the request or event being handled.
_TRACE: ContextVar[tuple[str, str] | None] = ContextVar("channel_trace", default=None)


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """(trace id, flags) of a valid W3C `traceparent`; None for a missing or invalid one."""
    match = _TRACEPARENT.match((value or "").strip())
    if match is None or match[1] == "ff" or set(match[2]) == {"0"} or set(match[3]) == {"0"}:
        return None
    return match[2], match[4]


@contextlib.contextmanager
def trace_context(traceparent: str | None) -> Iterator[None]:
    """Within it, logs carry the trace id and events written carry the trace on."""
    parsed = parse_traceparent(traceparent)
    token = _TRACE.set(parsed)
    try:
        with structlog.contextvars.bound_contextvars(trace_id=parsed[0] if parsed else None):
            yield
    finally:
        _TRACE.reset(token)


def child_traceparent() -> str | None:
    """The `traceparent` of an event written now: the current trace with a new span id."""
    current = _TRACE.get()
    if current is None:
        return None
    trace_id, flags = current
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def _add_request_id(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = correlation_id.get()
    if request_id:
        event.setdefault("request_id", request_id)
    return event


def _add_service(service: str) -> structlog.types.Processor:
    def add(
        _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    return add


def configure_logging(*, service: str, level: str = "INFO", json_logs: bool = True) -> None:
    """Route structlog and the standard library through one JSON (or console) renderer."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
        _add_service(service),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class TraceContextMiddleware:
    """Puts the request in the trace context of its `traceparent` header (logs, events)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        traceparent = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"traceparent"), None
        )
        with trace_context(traceparent):
            await self.app(scope, receive, send)
