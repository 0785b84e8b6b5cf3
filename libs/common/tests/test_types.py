"""The exact input types refuse pydantic's lax conversions and keep what the schema promises."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from channel_common import ExactBool, ExactInt, InputModel, IsoDate, IsoDateTime
from pydantic import TypeAdapter, ValidationError


class Inner(InputModel):
    note: str | None = None


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (IsoDate, "2026-10-15", date(2026, 10, 15)),
        (IsoDate, date(2026, 10, 15), date(2026, 10, 15)),
        (IsoDateTime, "2026-10-15T08:00:00Z", datetime(2026, 10, 15, 8, tzinfo=UTC)),
        (ExactBool, True, True),
        (ExactInt, 7, 7),
        (Inner, {"note": "x"}, Inner(note="x")),
    ],
)
def test_accepts_what_the_schema_promises(kind: Any, value: Any, expected: Any) -> None:
    assert TypeAdapter(kind).validate_python(value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (IsoDate, 0),
        (IsoDate, "0.0"),
        (IsoDate, "20261015"),
        (IsoDate, 1.5),
        (IsoDateTime, 1760515200),
        (IsoDateTime, "1760515200"),
        (ExactBool, 1),
        (ExactBool, "true"),
        (ExactInt, True),
        (ExactInt, "7"),
        (Inner, 2.0),
        (Inner, "note"),
        (Inner, []),
    ],
)
def test_refuses_lax_conversions(kind: Any, value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(kind).validate_python(value, from_attributes=True)
