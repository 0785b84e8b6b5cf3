"""structlog JSON logs, one object per line, carrying the request id and the W3C trace id;
the trace context that events written within a request or an event handler carry on."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import sys
from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar, Token
from typing import Any

import structlog
from asgi_correlation_id.context import correlation_id

__all__ = [
    "bind_trace",
    "child_traceparent",
    "configure_logging",
    "parse_traceparent",
    "reset_trace",
    "trace_context",
]

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
Trace = tuple[str, str]
# Within a request or event handler that came without a valid trace: logs say trace_id null.
_UNTRACED: Trace = ("", "")
# (trace id, flags) of the request or event being handled; None outside any.
_TRACE: ContextVar[Trace | None] = ContextVar("channel_trace", default=None)


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """(trace id, flags) of a valid W3C `traceparent`; None for a missing or invalid one."""
    match = _TRACEPARENT.match((value or "").strip())
    if match is None or match[1] == "ff" or set(match[2]) == {"0"} or set(match[3]) == {"0"}:
        return None
    return match[2], match[4]


def bind_trace(traceparent: str | None) -> Token[Trace | None]:
    """Enter the trace context of `traceparent` (see `trace_context`); give the token back to
    `reset_trace`. For hot paths that cannot afford a context manager."""
    parsed = None if traceparent is None else parse_traceparent(traceparent)
    return _TRACE.set(parsed or _UNTRACED)


def reset_trace(token: Token[Trace | None]) -> None:
    """Leave the trace context `bind_trace` entered."""
    _TRACE.reset(token)


@contextlib.contextmanager
def trace_context(traceparent: str | None) -> Iterator[None]:
    """Within it, logs carry the trace id and events written carry the trace on."""
    token = bind_trace(traceparent)
    try:
        yield
    finally:
        _TRACE.reset(token)


def child_traceparent() -> str | None:
    """The `traceparent` of an event written now: the current trace with a new span id."""
    current = _TRACE.get()
    if current is None or current is _UNTRACED:
        return None
    trace_id, flags = current
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def _add_trace_id(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # After merge_contextvars: a trace id bound with structlog (the gateway's new trace) wins.
    current = _TRACE.get()
    if current is not None:
        event.setdefault("trace_id", current[0] or None)
    return event


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
        _add_trace_id,
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
