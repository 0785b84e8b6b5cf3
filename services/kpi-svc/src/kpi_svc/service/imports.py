"""Streamed bulk imports: lines are parsed and ingested in chunks, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from channel_common import SQLModelSession, ValidationFailedError

from ..importing import CSV, HeaderError, LineError, LineParser, csv_parser, parse_ndjson_line
from ..schemas import ObservationIn
from .ingest import IngestOutcome, ingest_observations

__all__ = ["import_observations"]


async def import_observations(
    session: SQLModelSession,
    *,
    lines: AsyncIterator[tuple[int, bytes | None]],
    media_type: str,
    bound_partner: uuid.UUID | None,
    chunk_lines: int,
    max_line_bytes: int,
    max_event_bytes: int,
    max_listed: int,
) -> IngestOutcome:
    """Ingest a CSV or NDJSON stream; rejections carry 1-based line numbers, unparseable lines
    the code `invalid_line`. A CSV whose header is unusable → 422 before anything is stored."""
    outcome = IngestOutcome(batch_id=uuid.uuid4(), max_listed=max_listed)
    parse: LineParser | None = None if media_type == CSV else parse_ndjson_line
    items: list[ObservationIn] = []
    positions: list[int] = []

    async def flush() -> None:
        await ingest_observations(
            session,
            items=items,
            positions=positions,
            outcome=outcome,
            channel="import",
            bound_partner=bound_partner,
            max_event_bytes=max_event_bytes,
        )
        items.clear()
        positions.clear()

    async for number, raw in lines:
        if raw is None:
            outcome.reject(number, "invalid_line", f"longer than {max_line_bytes} bytes")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            outcome.reject(number, "invalid_line", "not UTF-8 text")
            continue
        if not text.strip():
            continue
        if parse is None:
            try:
                parse = csv_parser(text)
            except HeaderError as exc:
                raise ValidationFailedError(
                    "The CSV header is not usable.",
                    errors=[{"loc": ["body", "line", number], "msg": str(exc)}],
                ) from exc
            continue
        try:
            items.append(parse(text))
        except LineError as exc:
            outcome.reject(number, "invalid_line", str(exc))
            continue
        positions.append(number)
        if len(items) >= chunk_lines:
            await flush()
    if items:
        await flush()
    outcome.rejected.sort(key=lambda rejection: rejection.index)
    return outcome
