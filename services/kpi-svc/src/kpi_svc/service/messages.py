"""`kpi.ingest.v1`: observation batches over NATS, through the same ingestion as HTTP; what is
refused is published on `kpi.ingest.rejected.v1` (through the outbox)."""

from __future__ import annotations

import uuid

from channel_common import SQLModelSession, add_event

from ..events import INGEST_REJECTED, SOURCE, IngestRejected, RejectedItem, chunk_by_size
from ..schemas import ObservationBatch
from .ingest import IngestOutcome, ingest_observations

__all__ = ["ingest_message", "reject_message"]

# Ids of a message's items (and of its batch) derive from the event id, so even a redelivery
# that slipped past the inbox would find them stored.
_NAMESPACE = uuid.UUID("5b0c5d0e-8f0a-4f5e-9a47-6b1d2f3c4a5b")


def _batch_id(event_id: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, event_id)


async def ingest_message(
    session: SQLModelSession,
    *,
    batch: ObservationBatch,
    event_id: str,
    event_source: str,
    max_event_bytes: int,
) -> IngestOutcome:
    """Ingest a batch received as an event; announce its rejections, if any."""
    batch_id = _batch_id(event_id)
    outcome = IngestOutcome(batch_id=batch_id)
    await ingest_observations(
        session,
        items=batch.observations,
        outcome=outcome,
        channel="nats",
        max_event_bytes=max_event_bytes,
        make_id=lambda index: uuid.uuid5(batch_id, str(index)),
    )
    if outcome.rejected:
        _publish_rejections(
            session,
            outcome=outcome,
            items=[RejectedItem.model_validate(r, from_attributes=True) for r in outcome.rejected],
            event_id=event_id,
            event_source=event_source,
            max_event_bytes=max_event_bytes,
        )
    return outcome


def reject_message(
    session: SQLModelSession,
    *,
    detail: str,
    event_id: str,
    event_source: str,
    max_event_bytes: int,
) -> None:
    """Announce that a message is not a valid batch (nothing of it was stored)."""
    outcome = IngestOutcome(batch_id=_batch_id(event_id))
    _publish_rejections(
        session,
        outcome=outcome,
        items=[RejectedItem(index=None, code="invalid_message", detail=detail[:2000])],
        event_id=event_id,
        event_source=event_source,
        max_event_bytes=max_event_bytes,
    )


def _publish_rejections(
    session: SQLModelSession,
    *,
    outcome: IngestOutcome,
    items: list[RejectedItem],
    event_id: str,
    event_source: str,
    max_event_bytes: int,
) -> None:
    for chunk in chunk_by_size(items, max_bytes=max_event_bytes):
        add_event(
            session,
            event_type=INGEST_REJECTED,
            source=SOURCE,
            data=IngestRejected(
                ingest_event_id=event_id,
                ingest_source=event_source,
                batch_id=outcome.batch_id,
                accepted=outcome.accepted,
                duplicates=outcome.duplicates,
                rejected=chunk,
            ),
        )
