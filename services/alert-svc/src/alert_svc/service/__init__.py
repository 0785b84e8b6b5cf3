"""Business rules of alert-svc. Functions take the session and keyword arguments, flush at
most, and raise channel_common domain errors; the caller commits."""

from .alerts import acknowledge_alert, get_alert, list_alerts
from .evaluating import evaluate_aggregates, evaluate_observations, sweep_absence
from .projections import apply_aggregates, apply_partner_snapshot, record_observations
from .rules import create_rule, delete_rule, get_rule, list_rules, update_rule
from .silences import create_silence, delete_silence, get_silence, list_silences
from .webhooks import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
)

__all__ = [
    "acknowledge_alert",
    "apply_aggregates",
    "apply_partner_snapshot",
    "create_rule",
    "create_silence",
    "create_webhook",
    "delete_rule",
    "delete_silence",
    "delete_webhook",
    "evaluate_aggregates",
    "evaluate_observations",
    "get_alert",
    "get_rule",
    "get_silence",
    "get_webhook",
    "list_alerts",
    "list_deliveries",
    "list_rules",
    "list_silences",
    "list_webhooks",
    "record_observations",
    "sweep_absence",
    "update_rule",
]
