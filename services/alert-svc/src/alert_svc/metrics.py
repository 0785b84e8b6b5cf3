"""Business metrics of alert-svc (never labelled by partner id)."""

from prometheus_client import Counter, Gauge

__all__ = ["ALERTS_OPEN", "EVALUATIONS", "WEBHOOK_DELIVERIES"]

ALERTS_OPEN = Gauge(
    "channel_alerts_firing", "Open (firing or acknowledged) alerts by severity.", ["severity"]
)
EVALUATIONS = Counter(
    "channel_alert_evaluations_total",
    "Rule evaluations by condition type and outcome (firing, ok, no_data).",
    ["condition", "outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "channel_webhook_deliveries_total",
    "Webhook delivery attempts by result (delivered, retry, failed, refused).",
    ["result"],
)
