"""Shaping rows into API models, and exact scaled integers for values."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import TypeAdapter

from ..conditions import Condition
from ..models import Alert, AlertRule, Silence, Webhook
from ..schemas import AlertRead, RuleRead, Scope, SilenceRead, WebhookRead

__all__ = [
    "alert_read",
    "condition_of",
    "from_micro",
    "parse_condition",
    "rule_read",
    "silence_read",
    "to_micro",
    "webhook_read",
]

_SCALE = Decimal(10**6)
_CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)


def to_micro(value: Decimal) -> int:
    """The value times 10^6 as an integer, rounded half-up beyond six places."""
    return int((value * _SCALE).to_integral_value(rounding=ROUND_HALF_UP))


def from_micro(micro: int) -> Decimal:
    """The decimal a scaled integer stands for (exact)."""
    return Decimal(micro).scaleb(-6)


def parse_condition(data: Any) -> Condition:
    """A condition as stored (JSON) as its model."""
    return _CONDITION.validate_python(data)


def condition_of(rule: AlertRule) -> Condition:
    """The rule's stored condition as its model."""
    return parse_condition(rule.condition)


def rule_read(rule: AlertRule) -> RuleRead:
    """The API view of a rule."""
    return RuleRead.model_validate(
        {
            **rule.model_dump(exclude={"scope", "condition", "condition_type"}),
            "scope": Scope.model_validate(rule.scope),
            "condition": condition_of(rule),
        }
    )


def alert_read(alert: Alert) -> AlertRead:
    """The API (and event, and webhook) view of an alert."""
    value = None if alert.value_micro is None else from_micro(alert.value_micro)
    return AlertRead.model_validate(
        {**alert.model_dump(exclude={"value_micro", "open_key", "notified"}), "value": value}
    )


def silence_read(silence: Silence, *, now: datetime) -> SilenceRead:
    """The API view of a silence."""
    active = silence.starts_at <= now < silence.ends_at
    return SilenceRead.model_validate({**silence.model_dump(), "active": active})


def webhook_read(webhook: Webhook) -> WebhookRead:
    """The API view of a webhook, without its secret."""
    return WebhookRead.model_validate(webhook.model_dump(exclude={"secret"}))
