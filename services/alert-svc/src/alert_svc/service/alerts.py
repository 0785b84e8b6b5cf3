"""Reading and acknowledging alerts; a partner-bound principal sees only its own."""

from __future__ import annotations

import uuid
from datetime import datetime

from channel_common import (
    ConflictError,
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    bound_partner_filter,
    decode_keyset,
    keyset_page,
    utcnow,
)

from .. import repo
from ..events import ALERT_ACKNOWLEDGED
from ..models import Alert
from ..repo import AlertFilters
from ..schemas import AckRequest, AlertRead
from .notify import announce, is_silenced
from .views import alert_read

__all__ = ["acknowledge_alert", "get_alert", "list_alerts"]


async def _visible(session: SQLModelSession, alert_id: uuid.UUID, principal: Principal) -> Alert:
    alert = await session.get(Alert, alert_id)
    bound = principal.partner_id
    if alert is None or (bound is not None and alert.partner_id != bound):
        raise NotFoundError("Alert not found.")
    return alert


async def get_alert(
    session: SQLModelSession, *, alert_id: uuid.UUID, principal: Principal
) -> AlertRead:
    """One alert (404 when unknown or another partner's)."""
    return alert_read(await _visible(session, alert_id, principal))


async def list_alerts(
    session: SQLModelSession, *, filters: AlertFilters, params: PageParams, principal: Principal
) -> Page[AlertRead]:
    """A page of alerts, newest first."""
    partner_id = bound_partner_filter(principal, filters.partner_id)
    scoped = AlertFilters(
        state=filters.state,
        severity=filters.severity,
        partner_id=partner_id,
        rule_id=filters.rule_id,
    )
    after = decode_keyset(params.cursor, datetime.fromisoformat, uuid.UUID)
    rows = await repo.alerts_page(session, filters=scoped, after=after, limit=params.fetch_limit)
    return keyset_page(
        rows,
        limit=params.limit,
        key=lambda row: [row.started_at.isoformat(), str(row.id)],
        item=alert_read,
    )


async def acknowledge_alert(
    session: SQLModelSession, *, alert_id: uuid.UUID, data: AckRequest, actor: Principal
) -> AlertRead:
    """firing → acknowledged (409 otherwise); receivers are told unless a silence matches."""
    alert = await _visible(session, alert_id, actor)
    if alert.state != "firing":
        raise ConflictError(f"The alert is {alert.state}; only a firing alert can be acknowledged.")
    now = utcnow()
    alert.state, alert.acknowledged_at, alert.updated_at = "acknowledged", now, now
    alert.acknowledged_by, alert.ack_note = actor.subject, data.note
    alert.silenced = await is_silenced(session, labels=alert.labels, at=now)
    await session.flush()
    await announce(
        session, alert=alert, subject=ALERT_ACKNOWLEDGED, notify=not alert.silenced, now=now
    )
    return alert_read(alert)
