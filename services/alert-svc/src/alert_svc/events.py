"""Events alert-svc publishes: subject → model of the event's `data` (the alert)."""

from __future__ import annotations

from pydantic import BaseModel

from .schemas import AlertRead

__all__ = [
    "ALERT_ACKNOWLEDGED",
    "ALERT_FIRED",
    "ALERT_RESOLVED",
    "PUBLISHED",
    "SOURCE",
    "AlertAcknowledged",
    "AlertFired",
    "AlertResolved",
]

SOURCE = "urn:channel-suite:alert-svc"
ALERT_FIRED = "alert.fired.v1"
ALERT_RESOLVED = "alert.resolved.v1"
ALERT_ACKNOWLEDGED = "alert.acknowledged.v1"


class AlertFired(AlertRead):
    """A rule's condition held for its `for_periods`: the alert opened (state `firing`)."""


class AlertResolved(AlertRead):
    """The condition no longer holds for the latest period (or the rule went away)."""


class AlertAcknowledged(AlertRead):
    """Someone took the alert on (state `acknowledged`)."""


PUBLISHED: dict[str, type[BaseModel]] = {
    ALERT_FIRED: AlertFired,
    ALERT_RESOLVED: AlertResolved,
    ALERT_ACKNOWLEDGED: AlertAcknowledged,
}
