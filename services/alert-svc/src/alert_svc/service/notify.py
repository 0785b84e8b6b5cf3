"""Announcing an alert's change: the event through the outbox, and webhook deliveries queued
in the same transaction unless a silence mutes the alert."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from channel_common import SQLModelSession, add_event

from .. import repo
from ..events import PUBLISHED, SOURCE
from ..models import Alert, WebhookDelivery
from ..schemas import SEVERITIES
from .views import alert_read

__all__ = ["DELIVERY_PENDING", "announce", "is_silenced", "matches", "queue_deliveries"]

# Set on a session that queued deliveries: its commit wakes the delivery worker.
DELIVERY_PENDING = "webhook_delivery_pending"


def matches(matchers: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """Whether every matcher equals the label of the same name."""
    return all(labels.get(name) == value for name, value in matchers.items())


async def is_silenced(session: SQLModelSession, *, labels: Mapping[str, Any], at: datetime) -> bool:
    """Whether a silence in force at `at` matches `labels`."""
    silences = await repo.active_silences(session, at=at)
    return any(matches(s.matchers, labels) for s in silences)


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def announce(
    session: SQLModelSession, *, alert: Alert, subject: str, notify: bool, now: datetime
) -> None:
    """Write the `subject` event of `alert`; queue webhook deliveries when `notify`."""
    read = alert_read(alert)
    data = PUBLISHED[subject].model_validate(read.model_dump())
    add_event(session, event_type=subject, source=SOURCE, data=data, subject=str(alert.id))
    if notify:
        await queue_deliveries(session, alert=alert, kind=subject.removesuffix(".v1"), now=now)


async def queue_deliveries(
    session: SQLModelSession, *, alert: Alert, kind: str, now: datetime
) -> None:
    """Queue a `kind` notification of `alert` for every webhook that wants it."""
    read = alert_read(alert)
    body = json.dumps(
        {"type": kind, "timestamp": _timestamp(now), "data": read.model_dump(mode="json")},
        separators=(",", ":"),
    )
    rank = SEVERITIES.index(alert.severity)
    for webhook in await repo.webhooks(session):
        if kind in webhook.events and rank >= SEVERITIES.index(webhook.min_severity):
            session.add(
                WebhookDelivery(
                    webhook_id=webhook.id,
                    alert_id=alert.id,
                    event_type=kind,
                    payload=body,
                    state="pending",
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            session.info[DELIVERY_PENDING] = True
