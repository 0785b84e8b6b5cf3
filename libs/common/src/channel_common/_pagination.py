"""Cursor pagination: `Page[T]` bodies, `limit`/`cursor` query parameters, opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from ._errors import ValidationFailedError

__all__ = ["MAX_PAGE_SIZE", "Page", "PageParams", "decode_cursor", "encode_cursor"]

T = TypeVar("T")
MAX_PAGE_SIZE = 500


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the keyset `values` of the last row of a page."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int) -> list[Any]:
    """The keyset values in `cursor`; 422 if it was not made by `encode_cursor` with `arity`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise _bad_cursor() from exc
    if not isinstance(values, list) or len(values) != arity:
        raise _bad_cursor()
    return values


def _bad_cursor() -> ValidationFailedError:
    return ValidationFailedError(
        "The cursor is not valid.",
        errors=[{"loc": ["query", "cursor"], "msg": "not a cursor this API issued"}],
    )


class PageParams:
    """The `limit` and `cursor` query parameters of every list (use as a dependency)."""

    def __init__(
        self,
        limit: Annotated[
            int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (max 500).")
        ] = 50,
        cursor: Annotated[
            str | None, Query(max_length=512, description="From a previous page's next_cursor.")
        ] = None,
    ) -> None:
        self.limit = limit
        self.cursor = cursor
