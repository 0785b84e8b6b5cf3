"""Metrics of the gateway (never labelled by principal)."""

from prometheus_client import Counter

__all__ = ["RATE_LIMITED", "UPSTREAM_REQUESTS"]

UPSTREAM_REQUESTS = Counter(
    "gateway_upstream_requests_total",
    "Requests the gateway sent upstream, by service and outcome (ok, error, timeout).",
    ["service", "outcome"],
)
RATE_LIMITED = Counter(
    "gateway_rate_limited_total", "Requests refused with 429 by the per-principal rate limit."
)
