"""The events of an ingested batch, written as JSON text straight into the outbox.

A batch of 1,000 observations makes about 500 KB of event JSON (each observation, and each of
the two aggregates it touches). Building dicts and encoding them was the largest cost of a
batch in kpi-svc, so each item's text is formatted directly: every part is a UUID, a checked
key, a date, a number or a checked region code, which need no escaping, except `source`
(free text, encoded by `json.dumps` once per distinct value). The text is ASCII, so its length
is its size, and chunks are cut on exact sizes. The shapes are those of `RecordedObservation`
and `AggregateUpdate` (tests decode the outbox against them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import cast

from channel_common import SQLModelSession, add_events

from ..aggregation import Aggregation
from ..events import AGGREGATES_UPDATED, OBSERVATIONS_RECORDED, SOURCE, chunk_by_length
from ..repo import ObservationRow, StoredAggregate
from ..scaled import mean_text, micro_text

__all__ = ["announce_batch"]


async def announce_batch(
    session: SQLModelSession,
    *,
    batch_id: str,
    first_part: int,
    rows: Sequence[ObservationRow],
    updates: Sequence[StoredAggregate],
    kinds: dict[str, Aggregation],
    max_event_bytes: int,
) -> int:
    """Write the `kpi.observations.recorded.v1` parts (numbered from `first_part`) and the
    `kpi.aggregates.updated.v1` chunks of a batch into the outbox; the number of parts."""
    recorded = _observation_texts(rows)
    parts = chunk_by_length(recorded, list(map(len, recorded)), max_bytes=max_event_bytes)
    observations = [
        f'{{"batch_id":"{batch_id}","part":{number},"observations":[{",".join(chunk)}]}}'
        for number, chunk in enumerate(parts, start=first_part)
    ]
    await _write(session, OBSERVATIONS_RECORDED, observations)
    changed = _update_texts(updates, kinds)
    chunks = chunk_by_length(changed, list(map(len, changed)), max_bytes=max_event_bytes)
    await _write(
        session,
        AGGREGATES_UPDATED,
        [f'{{"batch_id":"{batch_id}","updates":[{",".join(chunk)}]}}' for chunk in chunks],
    )
    return len(parts)


def _observation_texts(rows: Sequence[ObservationRow]) -> list[str]:
    sources: dict[str | None, str] = {None: "null"}
    texts = []
    for observation_id, partner_id, kpi, micro, day, region, source in rows:
        source_text = sources.get(source)
        if source_text is None:
            source_text = sources[source] = json.dumps(source)
        region_text = "null" if region is None else f'"{region}"'
        texts.append(
            f'{{"id":"{observation_id}","partner_id":"{partner_id}","kpi":"{kpi}",'
            f'"value":"{micro_text(micro)}","occurred_on":"{day}","region":{region_text},'
            f'"source":{source_text}}}'
        )
    return texts


# Where each aggregation finds its value in a `StoredAggregate` (avg is computed).
_VALUE_FIELD = {
    Aggregation.SUM: 4,
    Aggregation.MIN: 6,
    Aggregation.MAX: 7,
    Aggregation.LAST: 8,
}


def _update_texts(updates: Sequence[StoredAggregate], kinds: dict[str, Aggregation]) -> list[str]:
    fields = {kpi: _VALUE_FIELD.get(kind) for kpi, kind in kinds.items()}
    texts = []
    for row in updates:
        partner_id, kpi, granularity, period, total, count = row[:6]
        field = fields[kpi]
        value = mean_text(total, count) if field is None else micro_text(cast(int, row[field]))
        texts.append(
            f'{{"partner_id":"{partner_id}","kpi":"{kpi}","granularity":"{granularity}",'
            f'"period":"{period}","value":"{value}","count":{count},"version":{row[9]}}}'
        )
    return texts


async def _write(session: SQLModelSession, event_type: str, payloads: list[str]) -> None:
    """Outbox rows, as `add_event` writes them, from JSON text already made."""
    events = [(None, payload.encode()) for payload in payloads]
    await add_events(session, event_type=event_type, source=SOURCE, events=events)
