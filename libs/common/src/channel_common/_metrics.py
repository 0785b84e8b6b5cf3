"""Prometheus metrics every process exposes (`_context` records the HTTP ones)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "DEAD_LETTERS",
    "EVENTS_CONSUMED",
    "EVENTS_PUBLISHED",
    "HOUSEKEEPING_DELETED",
    "HTTP_DURATION",
    "OUTBOX_BACKLOG",
    "OUTBOX_DUPLICATES",
    "OUTBOX_PUBLISH_FAILURES",
    "REDELIVERIES",
    "metrics_router",
]

HTTP_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "HTTP request duration by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "channel_events_published_total", "Events published to JetStream.", ["type"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "channel_outbox_publish_failures_total", "Outbox relay publish attempts that failed."
)
OUTBOX_DUPLICATES = Counter(
    "channel_outbox_duplicates_total",
    "Outbox events JetStream dropped as duplicates (republished after a crash before mark-sent).",
)
OUTBOX_BACKLOG = Gauge("channel_outbox_backlog", "Outbox events not yet published.")
EVENTS_CONSUMED = Counter(
    "channel_events_consumed_total",
    "Events handled by consumers, by result (applied, duplicate, failed).",
    ["consumer", "result"],
)
REDELIVERIES = Counter(
    "channel_consumer_redeliveries_total", "Messages delivered more than once.", ["consumer"]
)
DEAD_LETTERS = Counter(
    "channel_consumer_dead_letters_total", "Events given up after max_deliver.", ["consumer"]
)
HOUSEKEEPING_DELETED = Counter(
    "channel_housekeeping_deleted_total",
    "Finished infrastructure rows deleted by housekeeping, by table.",
    ["table"],
)


metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus exposition of this process's metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
