"""Business metrics of partner-svc (never labelled by partner)."""

from prometheus_client import Counter

__all__ = ["PARTNER_CHANGES"]

PARTNER_CHANGES = Counter(
    "partner_changes_total",
    "Partner changes recorded (history entry + event), by action.",
    ["action"],
)
