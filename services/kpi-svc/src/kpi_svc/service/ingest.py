"""Ingestion at volume: per-item checks, bulk insert that skips stored ids, aggregates kept in
step in the same transaction, and the batch announced in chunked events through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from channel_common import SQLModelSession, ValidationFailedError, format_decimal, utcnow

from .. import repo
from ..aggregation import Aggregation
from ..metrics import (
    BATCH_SIZE,
    OBSERVATIONS_DUPLICATE,
    OBSERVATIONS_INGESTED,
    OBSERVATIONS_REJECTED,
)
from ..repo import AggregateDelta, ObservationRow, PartnerState, StoredAggregate
from ..scaled import from_micro, to_micro
from ..schemas import IngestRejection, IngestResult, ObservationIn
from .announce import announce_batch

__all__ = ["IngestOutcome", "ingest_observations"]

log = structlog.get_logger(__name__)
AggregateKey = tuple[str, str, str, str]  # partner, kpi, granularity, period
# total, count, min, max, last value, last day, last id: mutable while a batch is folded in.
Statistics = list[Any]
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
    # Plain (min, max) pairs: the ORM's instrumented attributes are slow in a 10,000-item loop.
    limits = {key: (d.min_micro, d.max_micro) for key, d in definitions.items()}
    partners = await repo.partner_states(session, ids={item.partner_id for item in items})
    rows: dict[str, ObservationRow] = {}
    # A batch names each partner many times: its id text is made once.
    partner_texts = {partner_id: str(partner_id) for partner_id in partners}
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
            partner_texts[item.partner_id],
            item.kpi,
            checked,
            item.occurred_on.isoformat(),
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
        updates = await _update_aggregates(session, rows=new_rows)
        outcome.parts += await announce_batch(
            session,
            batch_id=str(outcome.batch_id),
            first_part=outcome.parts + 1,
            rows=new_rows,
            updates=updates,
            kinds={key: Aggregation(d.aggregation) for key, d in definitions.items()},
            max_event_bytes=max_event_bytes,
        )
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
        # The day and month period strings: `2026-10-15` and `2026-10`.
        for key in ((partner_id, kpi, "day", day), (partner_id, kpi, "month", day[:7])):
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
    session: SQLModelSession, *, rows: list[ObservationRow]
) -> list[StoredAggregate]:
    deltas = _fold(rows)
    # One lock order for concurrent batches.
    params: list[AggregateDelta] = [(*key, *deltas[key]) for key in sorted(deltas)]
    try:
        if any(abs(delta[4]) > _MAX_BIGINT for delta in params):
            raise OverflowError("a batch's sum exceeds the exact integer range")
        return await repo.upsert_aggregates(session, rows=params, updated_at=utcnow())
    except OverflowError as exc:
        raise ValidationFailedError(
            "The batch would take an aggregate beyond the exact range.",
            errors=[{"loc": ["body", "observations"], "msg": str(exc)}],
        ) from exc
