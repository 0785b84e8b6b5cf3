"""Reading bulk files line by line: CSV (with a header) and NDJSON, never the whole body in
memory. Each line becomes an `ObservationIn` or a `LineError`."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from .schemas import ObservationIn

__all__ = [
    "CSV",
    "NDJSON",
    "HeaderError",
    "LineError",
    "LineParser",
    "csv_parser",
    "numbered_lines",
    "parse_ndjson_line",
]

CSV = "text/csv"
NDJSON = "application/x-ndjson"
_REQUIRED = ("partner_id", "kpi", "value", "occurred_on")
_OPTIONAL = ("id", "region", "source")
LineParser = Callable[[str], ObservationIn]


class LineError(ValueError):
    """A line that is not a valid observation."""


class HeaderError(ValueError):
    """A CSV header that does not name the observation columns."""


async def numbered_lines(
    chunks: AsyncIterator[bytes], *, max_line_bytes: int
) -> AsyncIterator[tuple[int, bytes | None]]:
    """(1-based line number, line without its newline) for every line of a byte stream;
    `None` instead of a line longer than `max_line_bytes` (which is never buffered whole)."""
    buffer = bytearray()
    number = 0
    overlong = False
    async for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not overlong:
                    buffer += chunk[start:]
                    if len(buffer) > max_line_bytes:
                        overlong = True
                        buffer.clear()
                break
            number += 1
            piece = chunk[start:end]
            if overlong or len(buffer) + len(piece) > max_line_bytes:
                yield number, None
            else:
                buffer += piece
                yield number, bytes(buffer).removesuffix(b"\r")
            buffer.clear()
            overlong = False
            start = end + 1
    if buffer or overlong:
        yield number + 1, None if overlong else bytes(buffer).removesuffix(b"\r")


def _validated(fields: dict[str, Any]) -> ObservationIn:
    try:
        return ObservationIn.model_validate(fields)
    except ValidationError as exc:
        raise LineError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'line'}: {error['msg']}"
        for error in exc.errors()
    )


def parse_ndjson_line(text: str) -> ObservationIn:
    """One NDJSON line (a JSON object; numbers read as exact decimals)."""
    try:
        fields = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise LineError(f"not valid JSON: {exc}") from exc
    if not isinstance(fields, dict):
        raise LineError("not a JSON object")
    return _validated(fields)


def csv_parser(header: str) -> LineParser:
    """A parser for the rows under `header`; HeaderError when the columns are not usable."""
    try:
        names = next(csv.reader([header.lstrip("\ufeff")]))
    except csv.Error as exc:  # e.g. a bare carriage return inside the header line
        raise HeaderError(f"CSV header is not a CSV row: {exc}") from exc
    columns = [name.strip().lower() for name in names]
    unknown = sorted(set(columns) - set(_REQUIRED) - set(_OPTIONAL))
    missing = [name for name in _REQUIRED if name not in columns]
    if unknown or missing or len(set(columns)) != len(columns):
        raise HeaderError(
            f"CSV header must name {', '.join(_REQUIRED)} (optionally {', '.join(_OPTIONAL)}) "
            f"once each; unknown: {unknown or 'none'}, missing: {missing or 'none'}"
        )

    def parse(text: str) -> ObservationIn:
        try:
            values = next(csv.reader([text]))
        except csv.Error as exc:
            raise LineError(f"not a CSV row: {exc}") from exc
        if len(values) != len(columns):
            raise LineError(f"expected {len(columns)} fields, found {len(values)}")
        fields = {
            name: value.strip()
            for name, value in zip(columns, values, strict=True)
            if value.strip() or name in _REQUIRED
        }
        return _validated(fields)

    return parse
