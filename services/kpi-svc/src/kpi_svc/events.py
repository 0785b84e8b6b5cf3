"""Events kpi-svc publishes: subject → model of the event's `data`.

Never one event per observation: a batch is announced in chunks, each message at most
`Settings.event_max_bytes` (256 KiB) — see `chunk_by_size`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

from channel_common import ExactDecimal
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AGGREGATES_UPDATED",
    "INGEST",
    "INGEST_REJECTED",
    "OBSERVATIONS_RECORDED",
    "PUBLISHED",
    "SOURCE",
    "AggregateUpdate",
    "AggregatesUpdated",
    "IngestRejected",
    "ObservationsRecorded",
    "RecordedObservation",
    "RejectedItem",
    "chunk_by_length",
    "chunk_by_size",
]

SOURCE = "urn:channel-suite:kpi-svc"
OBSERVATIONS_RECORDED = "kpi.observations.recorded.v1"
AGGREGATES_UPDATED = "kpi.aggregates.updated.v1"
INGEST_REJECTED = "kpi.ingest.rejected.v1"
# Consumed, not published: producers send observation batches here.
INGEST = "kpi.ingest.v1"
# Room for the rest of the event body around the chunked list.
_ENVELOPE_BYTES = 1024
# Ids of the examples committed in contracts/events (consumers are tested against them).
_BATCH = "7c4e2a10-9b3d-4f5e-8a6b-0c1d2e3f4a5b"
_PARTNER = "0b9d8f5e-3c1a-4e2b-9f6d-7a8b9c0d1e2f"
T = TypeVar("T", bound=BaseModel)
U = TypeVar("U")


class RecordedObservation(BaseModel):
    """An observation as stored."""

    id: uuid.UUID
    partner_id: uuid.UUID
    kpi: str
    value: ExactDecimal
    occurred_on: date
    region: str | None
    source: str | None


class ObservationsRecorded(BaseModel):
    """Observations newly stored by one batch, in parts (a streamed import's total is not
    known while it is written, so parts are numbered, not counted)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": _BATCH,
                    "part": 1,
                    "observations": [
                        {
                            "id": "5f0c6b1e-8d2a-4c3b-9e7f-1a2b3c4d5e6f",
                            "partner_id": _PARTNER,
                            "kpi": "sales_amount",
                            "value": "125000.50",
                            "occurred_on": "2026-10-15",
                            "region": "CN-SC-CD",
                            "source": "erp",
                        }
                    ],
                }
            ]
        }
    )

    batch_id: uuid.UUID
    part: int = Field(description="1-based part number within the batch.")
    observations: list[RecordedObservation]


class AggregateUpdate(BaseModel):
    """The new value of one (partner, kpi, period); keep the highest `version` per key."""

    partner_id: uuid.UUID
    kpi: str
    granularity: str = Field(description="day | month")
    period: str
    value: ExactDecimal
    count: int
    version: int


class AggregatesUpdated(BaseModel):
    """Every aggregate a batch changed (chunked like the observations)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": _BATCH,
                    "updates": [
                        {
                            "partner_id": _PARTNER,
                            "kpi": "sales_amount",
                            "granularity": granularity,
                            "period": period,
                            "value": value,
                            "count": count,
                            "version": version,
                        }
                        for granularity, period, value, count, version in (
                            ("day", "2026-10-15", "125000.5", 1, 1),
                            ("month", "2026-10", "980000.25", 12, 12),
                        )
                    ],
                }
            ]
        }
    )

    batch_id: uuid.UUID
    updates: list[AggregateUpdate]


class RejectedItem(BaseModel):
    """One item of an ingest message that was not stored (`index` null: the whole message)."""

    index: int | None
    code: str
    detail: str


class IngestRejected(BaseModel):
    """Items of a `kpi.ingest.v1` message that were refused (code `invalid_message` when the
    message itself is not a valid batch; then nothing of it was stored)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ingest_event_id": "erp-export-2026-10-15-0001",
                    "ingest_source": "urn:erp:exports",
                    "batch_id": _BATCH,
                    "accepted": 99,
                    "duplicates": 0,
                    "rejected": [
                        {"index": 17, "code": "unknown_kpi", "detail": "KPI 'foo' is not defined."}
                    ],
                }
            ]
        }
    )

    ingest_event_id: str
    ingest_source: str
    batch_id: uuid.UUID
    accepted: int
    duplicates: int
    rejected: list[RejectedItem]


PUBLISHED: dict[str, type[BaseModel]] = {
    OBSERVATIONS_RECORDED: ObservationsRecorded,
    AGGREGATES_UPDATED: AggregatesUpdated,
    INGEST_REJECTED: IngestRejected,
}


def chunk_by_size(items: Sequence[T], *, max_bytes: int) -> list[list[T]]:
    """Split `items` so that each chunk's JSON list stays within `max_bytes` of an event."""
    budget = max_bytes - _ENVELOPE_BYTES
    chunks: list[list[T]] = []
    current: list[T] = []
    size = 2  # the brackets
    for item in items:
        item_size = len(item.__pydantic_serializer__.to_json(item)) + 1  # + the comma
        if current and size + item_size > budget:
            chunks.append(current)
            current, size = [], 2
        current.append(item)
        size += item_size
    if current:
        chunks.append(current)
    return chunks


def chunk_by_length(items: Sequence[U], lengths: Sequence[int], *, max_bytes: int) -> list[list[U]]:
    """Split `items` (whose JSON texts are `lengths` long) so that each chunk's JSON list stays
    within `max_bytes` of an event; the same greedy cut as `chunk_by_size`, without encoding
    each item to learn its size."""
    budget = max_bytes - _ENVELOPE_BYTES
    chunks: list[list[U]] = []
    current: list[U] = []
    size = 2  # the brackets
    for item, length in zip(items, lengths, strict=True):
        if current and size + length + 1 > budget:
            chunks.append(current)
            current, size = [], 2
        current.append(item)
        size += length + 1  # + the comma
    if current:
        chunks.append(current)
    return chunks
