"""NATS handlers of rebate-svc: parse → service function (the consumer commits and acks)."""

from __future__ import annotations

from channel_common import EventHandler, ReceivedEvent, SQLModelSession, Subscription

from . import service
from .consumed import AggregatesUpdated, PartnerSnapshot
from .settings import Settings

__all__ = [
    "KPI_DURABLE",
    "PARTNER_DURABLE",
    "aggregates_handler",
    "partner_handler",
    "subscriptions",
]

PARTNER_DURABLE = "rebate-partners"
KPI_DURABLE = "rebate-kpi-aggregates"


def partner_handler(settings: Settings) -> EventHandler:
    """The handler of `partner.*`: the replica (highest version wins), then its accruals."""

    async def on_partner_event(session: SQLModelSession, event: ReceivedEvent) -> None:
        snapshot = PartnerSnapshot.model_validate(event.data)
        await service.apply_partner(
            session,
            snapshot=snapshot,
            today=settings.today(),
            volume_kpis=settings.volume_kpis,
            event_chunk=settings.accrual_event_chunk,
        )

    return on_partner_event


def aggregates_handler(settings: Settings) -> EventHandler:
    """The handler of `kpi.aggregates.updated.v1`, bound to the settings (volume KPIs, today)."""

    async def on_aggregates(session: SQLModelSession, event: ReceivedEvent) -> None:
        data = AggregatesUpdated.model_validate(event.data)
        await service.apply_aggregates(
            session,
            data=data,
            today=settings.today(),
            volume_kpis=settings.volume_kpis,
            event_chunk=settings.accrual_event_chunk,
        )

    return on_aggregates


def subscriptions(settings: Settings) -> list[Subscription]:
    """The durable consumers of rebate-svc."""
    return [
        Subscription(
            durable=PARTNER_DURABLE,
            stream="PARTNER",
            subjects=("partner.>",),
            handler=partner_handler(settings),
        ),
        Subscription(
            durable=KPI_DURABLE,
            stream="KPI",
            subjects=("kpi.aggregates.updated.v1",),
            handler=aggregates_handler(settings),
        ),
    ]
