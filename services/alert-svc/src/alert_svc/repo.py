"""Every query alert-svc runs. Functions flush at most; the caller commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from channel_common import SQLModelSession, keyset_after
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from .models import (
    Alert,
    AlertRule,
    KpiValue,
    ObservationDay,
    PartnerReplica,
    Silence,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

__all__ = [
    "AlertFilters",
    "Keyset",
    "active_silences",
    "alerts_page",
    "attempts_of",
    "claim_due_deliveries",
    "delete_webhook",
    "deliveries_page",
    "enabled_rules",
    "kpi_values",
    "last_seen",
    "latest_period",
    "observation_days",
    "open_alert",
    "open_alert_counts",
    "open_alerts",
    "open_alerts_of_rule",
    "partners",
    "partners_with_data",
    "rules_page",
    "silences_page",
    "webhooks",
    "webhooks_page",
]

Keyset = tuple[datetime, uuid.UUID]


@dataclass(frozen=True)
class AlertFilters:
    """Filters of the alert list."""

    state: str | None = None
    severity: str | None = None
    partner_id: uuid.UUID | None = None
    rule_id: uuid.UUID | None = None


def _page(
    query: SelectOfScalar[Any], at: Any, ident: Any, after: Keyset | None, limit: int, desc: bool
) -> SelectOfScalar[Any]:
    if after is not None:
        query = query.where(keyset_after((at, ident), after, descending=desc))
    order = (at.desc(), ident.desc()) if desc else (at, ident)
    return query.order_by(*order).limit(limit)


async def rules_page(
    session: SQLModelSession, *, after: Keyset | None, limit: int
) -> Sequence[AlertRule]:
    """Rules, oldest first."""
    query = _page(
        select(AlertRule), col(AlertRule.created_at), col(AlertRule.id), after, limit, False
    )
    return (await session.exec(query)).all()


async def enabled_rules(
    session: SQLModelSession, *, types: Iterable[str], kpi: str | None = None
) -> Sequence[AlertRule]:
    """Enabled rules of the given condition types (of one KPI if given)."""
    query = select(AlertRule).where(
        col(AlertRule.enabled).is_(True), col(AlertRule.condition_type).in_(list(types))
    )
    if kpi is not None:
        query = query.where(AlertRule.kpi == kpi)
    return (await session.exec(query.order_by(col(AlertRule.created_at)))).all()


async def partners(
    session: SQLModelSession, *, ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, PartnerReplica]:
    """Replicated partners by id (all of them when `ids` is None)."""
    query = select(PartnerReplica)
    if ids is not None:
        query = query.where(col(PartnerReplica.id).in_(list(ids)))
    return {p.id: p for p in (await session.exec(query)).all()}


async def partners_with_data(
    session: SQLModelSession, *, kpi: str, granularity: str | None
) -> list[uuid.UUID]:
    """Partners with aggregates of `kpi` at `granularity`, or with observations of it (None)."""
    if granularity is None:
        query = select(ObservationDay.partner_id).where(ObservationDay.kpi == kpi)
    else:
        query = select(KpiValue.partner_id).where(
            KpiValue.kpi == kpi, KpiValue.granularity == granularity
        )
    return list((await session.exec(query.distinct())).all())


async def kpi_values(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    kpi: str,
    granularity: str,
    periods: Sequence[str],
) -> dict[str, int]:
    """The scaled values of the given periods that have one."""
    query = select(KpiValue.period, KpiValue.value_micro).where(
        KpiValue.partner_id == partner_id,
        KpiValue.kpi == kpi,
        KpiValue.granularity == granularity,
        col(KpiValue.period).in_(list(periods)),
    )
    return dict((await session.exec(query)).all())


async def latest_period(
    session: SQLModelSession, *, partner_id: uuid.UUID, kpi: str, granularity: str
) -> str | None:
    """The latest period of (partner, KPI) with a value (periods sort as text)."""
    query = select(sa.func.max(KpiValue.period)).where(
        KpiValue.partner_id == partner_id,
        KpiValue.kpi == kpi,
        KpiValue.granularity == granularity,
    )
    return (await session.exec(query)).one()


async def observation_days(
    session: SQLModelSession, *, partner_id: uuid.UUID, kpi: str, first: date, last: date
) -> Sequence[ObservationDay]:
    """Daily observation counts of (partner, KPI) between two days (inclusive)."""
    query = select(ObservationDay).where(
        ObservationDay.partner_id == partner_id,
        ObservationDay.kpi == kpi,
        col(ObservationDay.occurred_on) >= first,
        col(ObservationDay.occurred_on) <= last,
    )
    return (await session.exec(query)).all()


async def last_seen(session: SQLModelSession, *, partner_id: uuid.UUID, kpi: str) -> date | None:
    """The day of the latest observation of (partner, KPI)."""
    query = select(sa.func.max(ObservationDay.occurred_on)).where(
        ObservationDay.partner_id == partner_id, ObservationDay.kpi == kpi
    )
    return (await session.exec(query)).one()


async def open_alert(
    session: SQLModelSession, *, rule_id: uuid.UUID, partner_id: uuid.UUID
) -> Alert | None:
    """The open (firing or acknowledged) alert of a rule for a partner."""
    query = select(Alert).where(Alert.open_key == f"{rule_id}:{partner_id}")
    return (await session.exec(query)).first()


async def open_alerts_of_rule(session: SQLModelSession, *, rule_id: uuid.UUID) -> Sequence[Alert]:
    """Every open alert of a rule."""
    query = select(Alert).where(Alert.rule_id == rule_id, col(Alert.open_key).is_not(None))
    return (await session.exec(query)).all()


async def open_alerts(
    session: SQLModelSession, *, partner_id: uuid.UUID | None = None, silenced: bool | None = None
) -> Sequence[Alert]:
    """Open alerts, of one partner or with a given `silenced` flag if asked."""
    query = select(Alert).where(col(Alert.open_key).is_not(None))
    if partner_id is not None:
        query = query.where(Alert.partner_id == partner_id)
    if silenced is not None:
        query = query.where(col(Alert.silenced).is_(silenced))
    return (await session.exec(query)).all()


async def alerts_page(
    session: SQLModelSession, *, filters: AlertFilters, after: Keyset | None, limit: int
) -> Sequence[Alert]:
    """Alerts matching `filters`, newest first."""
    query = select(Alert)
    if filters.state is not None:
        query = query.where(Alert.state == filters.state)
    if filters.severity is not None:
        query = query.where(Alert.severity == filters.severity)
    if filters.partner_id is not None:
        query = query.where(Alert.partner_id == filters.partner_id)
    if filters.rule_id is not None:
        query = query.where(Alert.rule_id == filters.rule_id)
    query = _page(query, col(Alert.started_at), col(Alert.id), after, limit, True)
    return (await session.exec(query)).all()


async def open_alert_counts(session: SQLModelSession) -> dict[str, int]:
    """How many alerts are open, by severity."""
    query = (
        select(Alert.severity, sa.func.count())
        .where(col(Alert.open_key).is_not(None))
        .group_by(col(Alert.severity))
    )
    return {severity: int(n) for severity, n in (await session.exec(query)).all()}


async def active_silences(session: SQLModelSession, *, at: datetime) -> Sequence[Silence]:
    """Silences in force at `at`."""
    query = select(Silence).where(col(Silence.starts_at) <= at, col(Silence.ends_at) > at)
    return (await session.exec(query)).all()


async def silences_page(
    session: SQLModelSession, *, after: Keyset | None, limit: int
) -> Sequence[Silence]:
    """Silences, newest first."""
    query = _page(select(Silence), col(Silence.created_at), col(Silence.id), after, limit, True)
    return (await session.exec(query)).all()


async def webhooks(session: SQLModelSession) -> Sequence[Webhook]:
    """Every webhook."""
    return (await session.exec(select(Webhook))).all()


async def webhooks_page(
    session: SQLModelSession, *, after: Keyset | None, limit: int
) -> Sequence[Webhook]:
    """Webhooks, oldest first."""
    query = _page(select(Webhook), col(Webhook.created_at), col(Webhook.id), after, limit, False)
    return (await session.exec(query)).all()


async def delete_webhook(session: SQLModelSession, *, webhook_id: uuid.UUID) -> None:
    """Remove a webhook with its deliveries and their attempts."""
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook_id)
    await session.execute(
        sa.delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries))
    )
    await session.execute(
        sa.delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id)
    )
    await session.execute(sa.delete(Webhook).where(col(Webhook.id) == webhook_id))


async def deliveries_page(
    session: SQLModelSession, *, webhook_id: uuid.UUID, after: Keyset | None, limit: int
) -> Sequence[WebhookDelivery]:
    """Deliveries of a webhook, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    query = _page(
        query, col(WebhookDelivery.created_at), col(WebhookDelivery.id), after, limit, True
    )
    return (await session.exec(query)).all()


async def attempts_of(
    session: SQLModelSession, *, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """The attempts of each delivery, in order."""
    found: dict[uuid.UUID, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if delivery_ids:
        query = (
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(list(delivery_ids)))
            .order_by(col(WebhookAttempt.number))
        )
        for attempt in (await session.exec(query)).all():
            found[attempt.delivery_id].append(attempt)
    return found


async def claim_due_deliveries(
    session: SQLModelSession, *, now: datetime, limit: int
) -> Sequence[WebhookDelivery]:
    """Pending deliveries due at `now`, locked against other workers (PostgreSQL)."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.state == "pending", col(WebhookDelivery.next_attempt_at) <= now)
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(query)).all()
