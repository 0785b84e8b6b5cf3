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
from ..aggregation import Aggregation
from ..events import (
    AGGREGATES_UPDATED,
    OBSERVATIONS_RECORDED,
    SOURCE,
    chunk_by_length,
    json_text_length,
)
from ..metrics import (
    BATCH_SIZE,
    OBSERVATIONS_DUPLICATE,
    OBSERVATIONS_INGESTED,
    OBSERVATIONS_REJECTED,
)
from ..models import KpiDefinition
from ..repo import AggregateDelta, ObservationRow, PartnerState, StoredAggregate
from ..scaled import format_decimal, from_micro, mean_text, micro_text, to_micro
from ..schemas import IngestRejection, IngestResult, ObservationIn

__all__ = ["IngestOutcome", "ingest_observations"]

log = structlog.get_logger(__name__)
AggregateKey = tuple[str, str, str, str]  # partner, kpi, granularity, period
# total, count, min, max, last value, last day, last id: mutable while a batch is folded in.
Statistics = list[Any]
_MAX_BIGINT = 2**63 - 1
# The JSON text of an event item without its variable parts (each a UUID is 36 characters).
_OBSERVATION_JSON = len(
    '{"id":"","partner_id":"","kpi":"","value":"","occurred_on":"","region":,"source":}'
)
_UPDATE_JSON = len(
    '{"partner_id":"","kpi":"","granularity":"","period":"","value":"","count":,"version":}'
)
_UUID_TEXT = 36


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
    # Plain (min, max) pairs: the ORM's instrumented attributes are slow in a 10,000-item loop.
    limits = {key: (d.min_micro, d.max_micro) for key, d in definitions.items()}
    partners = await repo.partner_states(session, ids={item.partner_id for item in items})
    rows: dict[str, ObservationRow] = {}
    in_batch_duplicates = 0
    for index, item in enumerate(items):
        checked = _check(item, partners, limits, bound_partner)
        if isinstance(checked, tuple):
            outcome.reject(positions[index] if positions is not None else index, *checked)
            continue
        item_id = str(item.id or (make_id(index) if make_id is not None else uuid.uuid4()))
        if item_id in rows:
            in_batch_duplicates += 1
            continue
        rows[item_id] = (
            item_id,
            str(item.partner_id),
            item.kpi,
            checked,
            item.occurred_on,
            item.region,
            item.source,
        )
    # One lock order for concurrent batches (id text sorts like the UUIDs).
    ordered = [rows[key] for key in sorted(rows)]
    inserted = await repo.insert_observations(
        session, rows=ordered, batch_id=outcome.batch_id, recorded_at=utcnow()
    )
    new_rows = [row for row in ordered if row[0] in inserted]
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
    partners: dict[uuid.UUID, PartnerState],
    limits: dict[str, tuple[int | None, int | None]],
    bound_partner: uuid.UUID | None,
) -> int | tuple[str, str]:
    """The item's scaled value, or why it is refused (code, detail)."""
    if bound_partner is not None and item.partner_id != bound_partner:
        return "forbidden_partner", "You may only report figures of your own partner."
    partner = partners.get(item.partner_id)
    if partner is None:
        return "unknown_partner", f"Partner {item.partner_id} is not known."
    if partner.status == "terminated":
        return "partner_terminated", f"Partner {partner.code} is terminated."
    limit = limits.get(item.kpi)
    if limit is None:
        return "unknown_kpi", f"KPI {item.kpi!r} is not defined."
    value = to_micro(item.value)
    low, high = limit
    if low is not None and value < low:
        return "out_of_range", f"{item.kpi} must be at least {format_decimal(from_micro(low))}."
    if high is not None and value > high:
        return "out_of_range", f"{item.kpi} must be at most {format_decimal(from_micro(high))}."
    return value


def _fold(rows: list[ObservationRow]) -> dict[AggregateKey, Statistics]:
    """The statistics each (partner, kpi, day|month) gains from `rows`."""
    deltas: dict[AggregateKey, Statistics] = {}
    for observation_id, partner_id, kpi, micro, day, _region, _source in rows:
        day_text = day.isoformat()
        # The day and month period strings: `2026-10-15` and `2026-10`.
        for key in ((partner_id, kpi, "day", day_text), (partner_id, kpi, "month", day_text[:7])):
            known = deltas.get(key)
            if known is None:
                deltas[key] = [micro, 1, micro, micro, micro, day, observation_id]
                continue
            known[0] += micro
            known[1] += 1
            if micro < known[2]:
                known[2] = micro
            if micro > known[3]:
                known[3] = micro
            # The last value: latest day, ties broken by the greater observation id.
            if (day, observation_id) > (known[5], known[6]):
                known[4], known[5], known[6] = micro, day, observation_id
    return deltas


async def _update_aggregates(
    session: SQLModelSession,
    *,
    rows: list[ObservationRow],
    definitions: dict[str, KpiDefinition],
) -> list[dict[str, Any]]:
    deltas = _fold(rows)
    # One lock order for concurrent batches.
    params: list[AggregateDelta] = [(*key, *deltas[key]) for key in sorted(deltas)]
    try:
        if any(abs(delta[4]) > _MAX_BIGINT for delta in params):
            raise OverflowError("a batch's sum exceeds the exact integer range")
        stored = await repo.upsert_aggregates(session, rows=params, updated_at=utcnow())
    except OverflowError as exc:
        raise ValidationFailedError(
            "The batch would take an aggregate beyond the exact range.",
            errors=[{"loc": ["body", "observations"], "msg": str(exc)}],
        ) from exc
    kinds = {key: Aggregation(definition.aggregation) for key, definition in definitions.items()}
    return [
        {
            "partner_id": row[0],
            "kpi": row[1],
            "granularity": row[2],
            "period": row[3],
            "value": _value_text(kinds[row[1]], row),
            "count": row[5],
            "version": row[9],
        }
        for row in stored
    ]


def _value_text(kind: Aggregation, row: StoredAggregate) -> str:
    """The aggregate's value as the events write decimals (exact; avg rounded to 6 places)."""
    total, count, minimum, maximum, last_value = row[4:9]
    match kind:
        case Aggregation.SUM:
            return micro_text(total)
        case Aggregation.AVG:
            return mean_text(total, count)
        case Aggregation.MIN:
            return micro_text(minimum)
        case Aggregation.MAX:
            return micro_text(maximum)
        case _:
            return micro_text(last_value)


def _announce(
    session: SQLModelSession,
    outcome: IngestOutcome,
    rows: list[ObservationRow],
    updates: list[dict[str, Any]],
    max_event_bytes: int,
) -> None:
    """The `kpi.observations.recorded.v1` and `kpi.aggregates.updated.v1` events of a batch,
    as plain JSON-ready data (the shapes of `RecordedObservation` and `AggregateUpdate`)."""
    observations: list[dict[str, Any]] = []
    lengths: list[int] = []
    # The texts are checked keys, digits and dates: only region and source may need escapes.
    for observation_id, partner_id, kpi, micro, day, region, source in rows:
        value = micro_text(micro)
        observations.append(
            {
                "id": observation_id,
                "partner_id": partner_id,
                "kpi": kpi,
                "value": value,
                "occurred_on": day.isoformat(),
                "region": region,
                "source": source,
            }
        )
        lengths.append(
            _OBSERVATION_JSON
            + 2 * _UUID_TEXT
            + len(kpi)
            + len(value)
            + 10
            + (len(region) + 2 if region is not None else 4)  # a checked region code
            + json_text_length(source)
        )
    batch_id = str(outcome.batch_id)
    for recorded in chunk_by_length(observations, lengths, max_bytes=max_event_bytes):
        outcome.parts += 1
        data = {"batch_id": batch_id, "part": outcome.parts, "observations": recorded}
        add_event(session, event_type=OBSERVATIONS_RECORDED, source=SOURCE, data=data)
    update_lengths = [
        _UPDATE_JSON
        + _UUID_TEXT
        + len(update["kpi"])
        + len(update["granularity"])
        + len(update["period"])
        + len(update["value"])
        + len(str(update["count"]))
        + len(str(update["version"]))
        for update in updates
    ]
    for changed in chunk_by_length(updates, update_lengths, max_bytes=max_event_bytes):
        data = {"batch_id": batch_id, "updates": changed}
        add_event(session, event_type=AGGREGATES_UPDATED, source=SOURCE, data=data)
