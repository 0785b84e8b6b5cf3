"""What every change of a partner does: a new version, a history entry and an event, all in
the caller's transaction."""

from __future__ import annotations

from typing import Any

import structlog
from channel_common import Principal, SQLModelSession, add_event, utcnow

from ..events import PARTNER_REGISTERED, SOURCE, event_payload
from ..metrics import PARTNER_CHANGES
from ..models import Partner
from ..schemas import PartnerRead
from . import ledger
from .views import as_json, partner_read

__all__ = ["announce", "bump"]

log = structlog.get_logger(__name__)


def bump(partner: Partner) -> None:
    """Mark the partner as changed now: a new version and `updated_at`."""
    partner.version += 1
    partner.updated_at = utcnow()


async def announce(
    session: SQLModelSession,
    *,
    partner: Partner,
    subject: str,
    action: str,
    actor: Principal,
    reason: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None = None,
) -> PartnerRead:
    """Record the change in the history and the outbox; returns the partner as it is now.

    `before`/`after` hold the changed values only (`after` defaults to the whole partner, as
    for a registration); `before` is the event's `previous`.
    """
    session.add(partner)
    await session.flush()
    read = await partner_read(session, partner)
    snapshot = as_json(read)
    await ledger.record(
        session,
        partner_id=partner.id,
        version=partner.version,
        action=action,
        actor=actor.subject,
        reason=reason,
        at=partner.updated_at,
        before=before,
        after=snapshot if after is None else after,
    )
    extra: dict[str, Any] = {"reason": reason}
    if subject != PARTNER_REGISTERED:
        extra["previous"] = before or {}
    add_event(
        session,
        event_type=subject,
        source=SOURCE,
        subject=str(partner.id),
        data=event_payload(subject, snapshot=snapshot, **extra),
    )
    PARTNER_CHANGES.labels(action).inc()
    log.info(
        "partner_changed",
        action=action,
        partner_id=str(partner.id),
        version=partner.version,
        actor=actor.subject,
    )
    return read
