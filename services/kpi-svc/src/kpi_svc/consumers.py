"""NATS handlers: parse the event → call the service function. channel_common's consumer
records the event in the inbox in the same transaction and acks after the commit."""

from __future__ import annotations

from channel_common import EventHandler, ReceivedEvent, SQLModelSession, Subscription
from pydantic import ValidationError

from . import service
from .consumed import ObservationBatch, PartnerSnapshot
from .events import INGEST
from .service.messages import ingest_message, reject_message
from .settings import Settings

__all__ = ["apply_partner_event", "make_ingest_handler", "subscriptions"]


async def apply_partner_event(session: SQLModelSession, event: ReceivedEvent) -> None:
    """Any `partner.*` event carries the full snapshot: keep it if it is the newest."""
    snapshot = PartnerSnapshot.model_validate(event.data)
    await service.apply_partner_snapshot(session, snapshot=snapshot)


def make_ingest_handler(settings: Settings) -> EventHandler:
    """The `kpi.ingest.v1` handler: the same validation and ingestion as HTTP."""

    async def ingest(session: SQLModelSession, event: ReceivedEvent) -> None:
        try:
            batch = ObservationBatch.model_validate(event.data)
        except ValidationError as exc:
            # A message that is not a batch never becomes one: say so, do not retry it.
            reject_message(
                session,
                detail=str(exc),
                event_id=event.id,
                event_source=event.source,
                max_event_bytes=settings.event_max_bytes,
            )
            return
        await ingest_message(
            session,
            batch=batch,
            event_id=event.id,
            event_source=event.source,
            max_event_bytes=settings.event_max_bytes,
        )

    return ingest


def subscriptions(settings: Settings) -> list[Subscription]:
    """The durable consumers of kpi-svc."""
    return [
        # Deliver policy ALL: partners registered before kpi-svc first started arrive too.
        Subscription(
            durable="kpi-svc-partners",
            stream="PARTNER",
            subjects=("partner.>",),
            handler=apply_partner_event,
        ),
        Subscription(
            durable="kpi-svc-ingest",
            stream="KPI",
            subjects=(INGEST,),
            handler=make_ingest_handler(settings),
        ),
    ]
