"""Keyset cursors of the lists: (timestamp, id) of the last row of a page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from channel_common import ValidationFailedError, decode_cursor, encode_cursor

from ..repo import Keyset

__all__ = ["after_keyset", "next_cursor"]


class _Row(Protocol):
    id: uuid.UUID


def after_keyset(cursor: str | None) -> Keyset | None:
    """The keyset a cursor holds; 422 when it is not one of ours."""
    if cursor is None:
        return None
    moment, ident = decode_cursor(cursor, arity=2)
    try:
        return datetime.fromisoformat(moment), uuid.UUID(ident)
    except (TypeError, ValueError) as exc:
        raise ValidationFailedError(
            "The cursor is not valid.",
            errors=[{"loc": ["query", "cursor"], "msg": "not a cursor this API issued"}],
        ) from exc


def next_cursor(rows: Sequence[_Row], limit: int, field: str = "created_at") -> str | None:
    """The cursor after the page (None when `rows` holds no more than `limit`)."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor([getattr(last, field).isoformat(), str(last.id)])
