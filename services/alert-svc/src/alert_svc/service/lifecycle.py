"""Alert lifecycle: apply an evaluation to the (rule, partner) pair — fire, update, resolve.

At most one open alert per (rule, partner), enforced by the unique `open_key`. A resolved
alert keeps the value and summary of its last breach, as Alertmanager's resolved
notifications do.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import structlog
from channel_common import SQLModelSession

from .. import repo
from ..evaluation import Evaluation
from ..events import ALERT_FIRED, ALERT_RESOLVED
from ..metrics import EVALUATIONS
from ..models import Alert, AlertRule, PartnerReplica
from .notify import announce, is_silenced, queue_deliveries
from .views import to_micro

__all__ = [
    "apply_evaluation",
    "in_scope",
    "notify_unsilenced",
    "resolve_alert",
    "resolve_partner_alerts",
    "resolve_rule_alerts",
]

log = structlog.get_logger(__name__)


def in_scope(rule: AlertRule, partner_id: uuid.UUID, partner: PartnerReplica | None) -> bool:
    """Whether the rule watches the partner (an unknown partner matches no tier or region)."""
    if partner is not None and partner.status == "terminated":
        return False
    scope = rule.scope
    if scope.get("partner_ids") and str(partner_id) not in scope["partner_ids"]:
        return False
    if scope.get("tiers") and (partner is None or partner.tier not in scope["tiers"]):
        return False
    regions = [r.upper() for r in scope.get("regions") or []]
    if regions:
        where = "" if partner is None else partner.region.upper()
        return any(where == r or where.startswith(r + "-") for r in regions)
    return True


def _labels(
    rule: AlertRule, partner_id: uuid.UUID, partner: PartnerReplica | None
) -> dict[str, str]:
    return {
        **{str(k): str(v) for k, v in rule.labels.items()},
        "rule": rule.name,
        "partner_id": str(partner_id),
        "partner_code": partner.code if partner else "",
        "tier": partner.tier if partner else "",
        "region": partner.region if partner else "",
        "kpi": rule.kpi,
        "severity": rule.severity,
    }


def _micro(value: Decimal | None) -> int | None:
    return None if value is None else to_micro(value)


async def apply_evaluation(
    session: SQLModelSession,
    *,
    rule: AlertRule,
    partner_id: uuid.UUID,
    partner: PartnerReplica | None,
    evaluation: Evaluation,
    now: datetime,
) -> None:
    """Fire when firing and nothing is open; resolve an open alert when the condition
    definitely no longer holds; no data changes nothing."""
    outcome = "firing" if evaluation.firing else "no_data" if evaluation.holds is None else "ok"
    EVALUATIONS.labels(rule.condition_type, outcome).inc()
    alert = await repo.open_alert(session, rule_id=rule.id, partner_id=partner_id)
    if alert is None:
        if evaluation.firing:
            await _fire(
                session, rule=rule, partner_id=partner_id, partner=partner, ev=evaluation, now=now
            )
        return
    if evaluation.holds is False:
        await resolve_alert(session, alert=alert, now=now)
    elif evaluation.holds is True:
        alert.period, alert.summary = evaluation.period, evaluation.summary
        alert.value_micro = _micro(evaluation.value)
        alert.updated_at = now


async def _fire(
    session: SQLModelSession,
    *,
    rule: AlertRule,
    partner_id: uuid.UUID,
    partner: PartnerReplica | None,
    ev: Evaluation,
    now: datetime,
) -> None:
    labels = _labels(rule, partner_id, partner)
    silenced = await is_silenced(session, labels=labels, at=now)
    alert = Alert(
        rule_id=rule.id,
        partner_id=partner_id,
        kpi=rule.kpi,
        period=ev.period,
        state="firing",
        severity=rule.severity,
        value_micro=_micro(ev.value),
        summary=ev.summary,
        started_at=now,
        updated_at=now,
        silenced=silenced,
        notified=not silenced,
        labels=labels,
        open_key=f"{rule.id}:{partner_id}",
    )
    session.add(alert)
    await session.flush()
    log.info(
        "alert_fired",
        alert_id=str(alert.id),
        rule_id=str(rule.id),
        severity=rule.severity,
        period=ev.period,
        silenced=silenced,
    )
    await announce(session, alert=alert, subject=ALERT_FIRED, notify=not silenced, now=now)


async def resolve_alert(session: SQLModelSession, *, alert: Alert, now: datetime) -> None:
    """Close an open alert; notify receivers that were told it fired (unless silenced now)."""
    alert.silenced = await is_silenced(session, labels=alert.labels, at=now)
    alert.state, alert.resolved_at, alert.updated_at, alert.open_key = "resolved", now, now, None
    await session.flush()
    log.info("alert_resolved", alert_id=str(alert.id), rule_id=str(alert.rule_id))
    notify = alert.notified and not alert.silenced
    await announce(session, alert=alert, subject=ALERT_RESOLVED, notify=notify, now=now)


async def resolve_rule_alerts(session: SQLModelSession, *, rule: AlertRule, now: datetime) -> None:
    """Resolve every open alert of a rule (disabled, changed or deleted)."""
    for alert in await repo.open_alerts_of_rule(session, rule_id=rule.id):
        await resolve_alert(session, alert=alert, now=now)


async def resolve_partner_alerts(
    session: SQLModelSession, *, partner_id: uuid.UUID, now: datetime
) -> None:
    """Resolve every open alert of a partner (it was terminated)."""
    for alert in await repo.open_alerts(session, partner_id=partner_id):
        await resolve_alert(session, alert=alert, now=now)


async def notify_unsilenced(session: SQLModelSession, *, now: datetime) -> None:
    """Alerts whose silence ended while they were still open: mark them, and send the firing
    notification they never got (as Alertmanager does when a silence expires)."""
    for alert in await repo.open_alerts(session, silenced=True):
        if await is_silenced(session, labels=alert.labels, at=now):
            continue
        alert.silenced, alert.updated_at = False, now
        if not alert.notified:
            alert.notified = True
            await queue_deliveries(session, alert=alert, kind="alert.fired", now=now)
