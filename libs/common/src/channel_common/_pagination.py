"""Cursor pagination: `Page[T]` bodies, `limit`/`cursor` query parameters, opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy.sql.elements import ColumnElement

from ._errors import ValidationFailedError

__all__ = [
    "MAX_PAGE_SIZE",
    "Page",
    "PageParams",
    "cursor_int",
    "cursor_str",
    "decode_cursor",
    "decode_keyset",
    "encode_cursor",
    "keyset_after",
    "keyset_page",
    "next_cursor",
]

T = TypeVar("T")
R = TypeVar("R")
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


def decode_keyset(cursor: str | None, *parsers: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The keyset in `cursor`, each value read by its parser (`uuid.UUID`, `date.fromisoformat`,
    `cursor_str`…); None without a cursor, 422 when a value does not parse."""
    if cursor is None:
        return None
    values = decode_cursor(cursor, arity=len(parsers))
    try:
        return tuple(parse(value) for parse, value in zip(parsers, values, strict=True))
    except (TypeError, ValueError, AttributeError) as exc:
        raise _bad_cursor() from exc


def cursor_str(value: Any) -> str:
    """A cursor value that must be a JSON string (for `decode_keyset`)."""
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def cursor_int(value: Any) -> int:
    """A cursor value that must be a JSON integer (for `decode_keyset`)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


def next_cursor(rows: Sequence[R], *, limit: int, key: Callable[[R], list[Any]]) -> str | None:
    """The cursor after a page, from rows fetched with `limit + 1` (None when no row follows);
    `key` gives a row's keyset values as JSON (e.g. `[row.day.isoformat(), str(row.id)]`)."""
    if len(rows) <= limit:
        return None
    return encode_cursor(key(rows[limit - 1]))


def keyset_page(
    rows: Sequence[R],
    *,
    limit: int,
    key: Callable[[R], list[Any]],
    item: Callable[[R], T],
) -> Page[T]:
    """The page of rows fetched with `limit + 1`: the first `limit` as items, and the cursor
    after them when a row follows."""
    return Page(
        items=[item(row) for row in rows[:limit]],
        next_cursor=next_cursor(rows, limit=limit, key=key),
    )


def keyset_after(
    columns: Sequence[Any], values: Sequence[Any], *, descending: bool = False
) -> ColumnElement[bool]:
    """The rows after the keyset `values` in the order of `columns` (all ascending, or all
    descending): `a > x OR (a = x AND (b > y OR …))`, which every database plans on the index
    of the leading column."""
    (column, *more), (value, *rest) = columns, values
    beyond: ColumnElement[bool] = column < value if descending else column > value
    if not more:
        return beyond
    return sa.or_(beyond, sa.and_(column == value, keyset_after(more, rest, descending=descending)))


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

    @property
    def fetch_limit(self) -> int:
        """How many rows to fetch: one more than a page tells whether another page follows."""
        return self.limit + 1
