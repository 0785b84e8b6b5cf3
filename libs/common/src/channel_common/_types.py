"""Input types that accept only what the OpenAPI document promises: pydantic's lax mode would
also take `1` for `true`, `true` for `1`, `0` for 1970-01-01, and (through FastAPI) any value
for an object whose fields are all optional."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, model_validator

__all__ = ["ExactBool", "ExactInt", "InputModel", "IsoDate", "IsoDateTime"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)


def _iso_text(kind: str, pattern: re.Pattern[str], example: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str):
            if pattern.fullmatch(value) is None:
                raise ValueError(f"must be an ISO 8601 {kind} such as {example}")
        elif not isinstance(value, date):  # a number is not a date (no Unix timestamps)
            raise ValueError(f"must be an ISO 8601 {kind} string such as {example}")
        return value

    return check


# A JSON `true`/`false` only; a JSON integer only (not `true`, not `"1"`). Body fields: in a
# query, values arrive as text and need the lax parsing.
ExactBool = Annotated[bool, Strict()]
ExactInt = Annotated[int, Strict()]
IsoDate = Annotated[date, BeforeValidator(_iso_text("date", _DATE, "2026-10-15"))]
IsoDateTime = Annotated[
    datetime, BeforeValidator(_iso_text("date-time", _DATETIME, "2026-10-15T08:00:00Z"))
]


class InputModel(BaseModel):
    """What a client sends: unknown fields are refused, and only a JSON object is an object.
    (FastAPI validates bodies with `from_attributes`, which reads a number or a string as a
    model whose fields are all optional: `"contact": 2` would become an empty contact.)"""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict | BaseModel):
            raise ValueError("must be a JSON object")
        return data
