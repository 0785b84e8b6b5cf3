"""Ingestion at volume: per-item checks, bulk insert that skips stored ids, aggregates kept in
step in the same transaction, and the batch announced in chunked events through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from channel_common import SQLModelSession, ValidationFailedError, add_event, utcnow

from .. import repo
from ..aggregation import AggregateState, Aggregation, aggregate_value
from ..events import (
    AGGREGATES_UPDATED,
    OBSERVATIONS_RECORDED,
    SOURCE,
    AggregatesUpdated,
    AggregateUpdate,
    ObservationsRecorded,
    RecordedObservation,
    chunk_by_size,
)
from ..metrics import (
    BATCH_SIZE,
    OBSERVATIONS_DUPLICATE,
    OBSERVATIONS_INGESTED,
    OBSERVATIONS_REJECTED,
)
from ..models import KpiDefinition, Partner
from ..scaled import format_decimal, from_micro, to_micro
from ..schemas import IngestRejection, IngestResult, ObservationIn

__all__ = ["IngestOutcome", "ingest_observations"]

log = structlog.get_logger(__name__)
AggregateKey = tuple[uuid.UUID, str, str, str]  # partner, kpi, granularity, period
_MAX_BIGINT = 2**63 - 1


@dataclass
class IngestOutcome:
    """Counts and rejections of a batch (or of all chunks of an import so far)."""

    batch_id: uuid.UUID
    accepted: int = 0
    duplicates: int = 0
    rejected: list[IngestRejection] = field(default_factory=list)
    rejected_count: int = 0
    max_listed: int | None = None
    parts: int = 0  # `kpi.observations.recorded.v1` events written so far

    def reject(self, index: int, code: str, detail: str) -> None:
        """Record one refused item (listed up to `max_listed`)."""
        self.rejected_count += 1
        OBSERVATIONS_REJECTED.labels(code).inc()
        if self.max_listed is None or len(self.rejected) < self.max_listed:
            self.rejected.append(IngestRejection(index=index, code=code, detail=detail))

    def result(self) -> IngestResult:
        """The API answer."""
        return IngestResult(
            accepted=self.accepted,
            duplicates=self.duplicates,
            rejected=self.rejected,
            rejected_count=self.rejected_count,
            batch_id=self.batch_id,
        )


async def ingest_observations(
    session: SQLModelSession,
    *,
    items: Sequence[ObservationIn],
    outcome: IngestOutcome,
    channel: str,
    max_event_bytes: int,
    positions: Sequence[int] | None = None,
    bound_partner: uuid.UUID | None = None,
    make_id: Callable[[int], uuid.UUID] | None = None,
) -> None:
    """Store the acceptable items of `items` into `outcome`.

    `positions` numbers the items in answers (default: 0-based index; an import gives line
    numbers); `bound_partner` refuses other partners' items (`forbidden_partner`); `make_id`
    gives the id of an item sent without one (default: a random UUID)."""
    BATCH_SIZE.observe(len(items))
    definitions = await repo.all_definitions(session)
    partners = await repo.partners_by_ids(session, ids=(item.partner_id for item in items))
    now = utcnow()
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    in_batch_duplicates = 0
    for index, item in enumerate(items):
        position = positions[index] if positions is not None else index
        problem = _check(item, partners, definitions, bound_partner)
        if problem is not None:
            outcome.reject(position, *problem)
            continue
        item_id = item.id or (make_id(index) if make_id is not None else uuid.uuid4())
        if item_id in rows:
            in_batch_duplicates += 1
            continue
        rows[item_id] = {
            "id": item_id,
            "partner_id": item.partner_id,
            "kpi": item.kpi,
            "value_micro": to_micro(item.value),
            "occurred_on": item.occurred_on,
            "region": item.region,
            "source": item.source,
            "batch_id": outcome.batch_id,
            "recorded_at": now,
        }
    # One lock order for concurrent batches (sorting UUIDs by their int is the fast way).
    ordered = [rows[key] for key in sorted(rows, key=lambda key: key.int)]
    inserted = await repo.insert_observations(session, rows=ordered)
    new_rows = [row for row in ordered if row["id"] in inserted]
    duplicates = in_batch_duplicates + len(ordered) - len(new_rows)
    outcome.accepted += len(new_rows)
    outcome.duplicates += duplicates
    OBSERVATIONS_INGESTED.labels(channel).inc(len(new_rows))
    OBSERVATIONS_DUPLICATE.inc(duplicates)
    if new_rows:
        updates = await _update_aggregates(session, rows=new_rows, definitions=definitions)
        _announce(session, outcome, new_rows, updates, max_event_bytes)
    log.info(
        "observations_ingested",
        channel=channel,
        batch_id=str(outcome.batch_id),
        items=len(items),
        accepted=len(new_rows),
        duplicates=duplicates,
        rejected=len(items) - len(ordered) - in_batch_duplicates,
    )


def _check(
    item: ObservationIn,
    partners: dict[uuid.UUID, Partner],
    definitions: dict[str, KpiDefinition],
    bound_partner: uuid.UUID | None,
) -> tuple[str, str] | None:
    if bound_partner is not None and item.partner_id != bound_partner:
        return "forbidden_partner", "You may only report figures of your own partner."
    partner = partners.get(item.partner_id)
    if partner is None:
        return "unknown_partner", f"Partner {item.partner_id} is not known."
    if partner.status == "terminated":
        return "partner_terminated", f"Partner {partner.code} is terminated."
    definition = definitions.get(item.kpi)
    if definition is None:
        return "unknown_kpi", f"KPI {item.kpi!r} is not defined."
    value = to_micro(item.value)
    if definition.min_micro is not None and value < definition.min_micro:
        low = format_decimal(from_micro(definition.min_micro))
        return "out_of_range", f"{item.kpi} must be at least {low}."
    if definition.max_micro is not None and value > definition.max_micro:
        high = format_decimal(from_micro(definition.max_micro))
        return "out_of_range", f"{item.kpi} must be at most {high}."
    return None


async def _update_aggregates(
    session: SQLModelSession,
    *,
    rows: list[dict[str, Any]],
    definitions: dict[str, KpiDefinition],
) -> list[AggregateUpdate]:
    deltas: dict[AggregateKey, AggregateState] = {}
    for row in rows:
        state = AggregateState.of(
            value=row["value_micro"], occurred_on=row["occurred_on"], observation_id=row["id"]
        )
        day = row["occurred_on"].isoformat()
        # The day and month period strings: `2026-10-15` and `2026-10`.
        for granularity, period in (("day", day), ("month", day[:7])):
            key = (row["partner_id"], row["kpi"], granularity, period)
            known = deltas.get(key)
            deltas[key] = state if known is None else known.merge(state)
    now = utcnow()
    ordered = sorted(deltas.items(), key=lambda pair: (pair[0][0].int, *pair[0][1:]))
    params = [
        {
            "partner_id": key[0],
            "kpi": key[1],
            "granularity": key[2],
            "period": key[3],
            "total_micro": state.total,
            "count": state.count,
            "min_micro": state.minimum,
            "max_micro": state.maximum,
            "last_micro": state.last_value,
            "last_on": state.last_on,
            "last_id": state.last_id,
            "version": 1,
            "updated_at": now,
        }
        for key, state in ordered
    ]
    try:
        if any(abs(state.total) > _MAX_BIGINT for _, state in ordered):
            raise OverflowError("a batch's sum exceeds the exact integer range")
        stored = await repo.upsert_aggregates(session, rows=params)
    except OverflowError as exc:
        raise ValidationFailedError(
            "The batch would take an aggregate beyond the exact range.",
            errors=[{"loc": ["body", "observations"], "msg": str(exc)}],
        ) from exc
    kinds = {key: Aggregation(definition.aggregation) for key, definition in definitions.items()}
    return [
        AggregateUpdate(
            partner_id=row.partner_id,
            kpi=row.kpi,
            granularity=row.granularity,
            period=row.period,
            value=aggregate_value(
                kinds[row.kpi],
                total=row.total_micro,
                count=row.observations,
                minimum=row.min_micro,
                maximum=row.max_micro,
                last_value=row.last_micro,
            ),
            count=row.observations,
            version=row.version,
        )
        for row in stored
    ]


def _announce(
    session: SQLModelSession,
    outcome: IngestOutcome,
    rows: list[dict[str, Any]],
    updates: list[AggregateUpdate],
    max_event_bytes: int,
) -> None:
    observations = [
        RecordedObservation(
            id=row["id"],
            partner_id=row["partner_id"],
            kpi=row["kpi"],
            value=from_micro(row["value_micro"]),
            occurred_on=row["occurred_on"],
            region=row["region"],
            source=row["source"],
        )
        for row in rows
    ]
    for recorded in chunk_by_size(observations, max_bytes=max_event_bytes):
        outcome.parts += 1
        data = ObservationsRecorded(
            batch_id=outcome.batch_id, part=outcome.parts, observations=recorded
        )
        add_event(session, event_type=OBSERVATIONS_RECORDED, source=SOURCE, data=data)
    for changed in chunk_by_size(updates, max_bytes=max_event_bytes):
        add_event(
            session,
            event_type=AGGREGATES_UPDATED,
            source=SOURCE,
            data=AggregatesUpdated(batch_id=outcome.batch_id, updates=changed),
        )
