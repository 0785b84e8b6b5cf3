"""The events of a batch are written as JSON text: it must read back as the event models."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from channel_common import OutboxMessage
from kpi_svc.aggregation import Aggregation, aggregate_value
from kpi_svc.events import (
    AGGREGATES_UPDATED,
    OBSERVATIONS_RECORDED,
    AggregatesUpdated,
    AggregateUpdate,
    ObservationsRecorded,
    RecordedObservation,
)
from kpi_svc.repo import ObservationRow, StoredAggregate
from kpi_svc.scaled import from_micro
from kpi_svc.service.announce import announce_batch

SOURCES = [None, "", "erp", 'say "hi"', "back\\slash", "tab\there", "\x7f", "Zürich", "店铺 🏬"]
KINDS = {
    "sales_amount": Aggregation.SUM,
    "conversion_rate": Aggregation.AVG,
    "low_kpi": Aggregation.MIN,
    "high_kpi": Aggregation.MAX,
    "store_coverage": Aggregation.LAST,
}


class FakeSession:
    """Collects the outbox rows `announce_batch` writes (SQLite's bulk-insert path)."""

    bind = None

    def __init__(self) -> None:
        self.added: list[OutboxMessage] = []
        self.info: dict[str, Any] = {}

    async def flush(self) -> None:
        pass

    async def execute(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        self.added.extend(OutboxMessage(**row) for row in rows)

    def payloads(self, subject: str) -> list[bytes]:
        return [row.payload for row in self.added if row.subject == subject]


def make_row(index: int, **overrides: Any) -> ObservationRow:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "partner_id": str(uuid.uuid4()),
        "kpi": "sales_amount",
        "micro": (index - 3) * 1_250_000 + index,
        "day": f"2026-10-{index % 28 + 1:02d}",
        "region": None if index % 2 else "CN-GD-SZ",
        "source": SOURCES[index % len(SOURCES)],
        **overrides,
    }
    return tuple(values.values())  # type: ignore[return-value]


def make_update(kpi: str, index: int) -> StoredAggregate:
    return (
        str(uuid.uuid4()),
        kpi,
        "month",
        "2026-10",
        -7_000_001 * index,
        3,
        -5,
        9 * index,
        4,
        index,
    )


def announce(
    rows: list[ObservationRow], updates: list[StoredAggregate], **kwargs: Any
) -> FakeSession:
    session = FakeSession()
    options: dict[str, Any] = {"first_part": 1, "max_event_bytes": 256 * 1024, **kwargs}
    asyncio.run(
        announce_batch(
            session,  # type: ignore[arg-type]
            batch_id=str(uuid.uuid4()),
            rows=rows,
            updates=updates,
            kinds=KINDS,
            **options,
        )
    )
    return session


class TestAnnounceBatch:
    def test_observations_read_back_as_the_recorded_model(self) -> None:
        rows = [make_row(i) for i in range(len(SOURCES) * 2)]
        (payload,) = announce(rows, []).payloads(OBSERVATIONS_RECORDED)
        assert payload.isascii()
        event = ObservationsRecorded.model_validate_json(payload)
        fields = list(RecordedObservation.model_fields)
        expected = [
            RecordedObservation.model_validate(
                {**dict(zip(fields, row, strict=True)), "value": from_micro(row[3])}
            )
            for row in rows
        ]
        assert event.observations == expected
        # Decimals travel as strings, exactly as the model writes them.
        written = json.loads(payload)["observations"]
        assert written == [json.loads(item.model_dump_json()) for item in expected]

    @pytest.mark.parametrize("kpi", sorted(KINDS))
    def test_updates_carry_the_value_of_their_aggregation(self, kpi: str) -> None:
        updates = [make_update(kpi, i) for i in range(1, 4)]
        (payload,) = announce([], updates).payloads(AGGREGATES_UPDATED)
        event = AggregatesUpdated.model_validate_json(payload)
        expected = [
            AggregateUpdate(
                partner_id=uuid.UUID(row[0]),
                kpi=kpi,
                granularity="month",
                period="2026-10",
                value=aggregate_value(
                    KINDS[kpi],
                    total=row[4],
                    count=row[5],
                    minimum=row[6],
                    maximum=row[7],
                    last_value=row[8],
                ),
                count=row[5],
                version=row[9],
            )
            for row in updates
        ]
        assert event.updates == expected
        written = json.loads(payload)["updates"]
        assert written == [json.loads(item.model_dump_json()) for item in expected]

    def test_chunks_stay_under_the_bound_and_number_their_parts(self) -> None:
        rows = [make_row(i) for i in range(400)]
        updates = [make_update("conversion_rate", i) for i in range(400)]
        session = announce(rows, updates, first_part=3, max_event_bytes=8 * 1024)
        assert all(len(row.payload) <= 8 * 1024 for row in session.added)
        recorded = [json.loads(p) for p in session.payloads(OBSERVATIONS_RECORDED)]
        assert len(recorded) > 1
        assert [event["part"] for event in recorded] == list(range(3, 3 + len(recorded)))
        assert [o["id"] for event in recorded for o in event["observations"]] == [
            row[0] for row in rows
        ]
        changed = [json.loads(p) for p in session.payloads(AGGREGATES_UPDATED)]
        assert len(changed) > 1
        assert [u["partner_id"] for event in changed for u in event["updates"]] == [
            row[0] for row in updates
        ]
        assert session.info  # the relay is woken at commit
