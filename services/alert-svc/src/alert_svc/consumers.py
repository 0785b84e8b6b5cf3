"""NATS handlers: parse the event → call the service function. channel_common's consumer
records the event in the inbox in the same transaction and acks after the commit."""

from __future__ import annotations

from channel_common import ReceivedEvent, SQLModelSession, Subscription, utcnow

from . import service
from .consumed import AggregatesUpdated, ObservationsRecorded, PartnerSnapshot

__all__ = [
    "AGGREGATES_UPDATED",
    "OBSERVATIONS_RECORDED",
    "apply_aggregates_event",
    "apply_partner_event",
    "record_observations_event",
    "subscriptions",
]

AGGREGATES_UPDATED = "kpi.aggregates.updated.v1"
OBSERVATIONS_RECORDED = "kpi.observations.recorded.v1"


async def apply_partner_event(session: SQLModelSession, event: ReceivedEvent) -> None:
    """Any `partner.*` event carries the full snapshot: keep it if it is the newest."""
    snapshot = PartnerSnapshot.model_validate(event.data)
    await service.apply_partner_snapshot(session, snapshot=snapshot)


async def apply_aggregates_event(session: SQLModelSession, event: ReceivedEvent) -> None:
    """New aggregates: keep the highest versions and evaluate the rules watching them."""
    data = AggregatesUpdated.model_validate(event.data)
    await service.apply_aggregates(session, event=data, now=utcnow())


async def record_observations_event(session: SQLModelSession, event: ReceivedEvent) -> None:
    """New observations: territory checks and the last-seen day for absence."""
    data = ObservationsRecorded.model_validate(event.data)
    now = utcnow()
    await service.record_observations(session, event=data, today=now.date(), now=now)


def subscriptions() -> list[Subscription]:
    """The durable consumers of alert-svc."""
    return [
        Subscription(
            durable="alert-svc-partners",
            stream="PARTNER",
            subjects=("partner.>",),
            handler=apply_partner_event,
        ),
        Subscription(
            durable="alert-svc-aggregates",
            stream="KPI",
            subjects=(AGGREGATES_UPDATED,),
            handler=apply_aggregates_event,
        ),
        Subscription(
            durable="alert-svc-observations",
            stream="KPI",
            subjects=(OBSERVATIONS_RECORDED,),
            handler=record_observations_event,
        ),
    ]
