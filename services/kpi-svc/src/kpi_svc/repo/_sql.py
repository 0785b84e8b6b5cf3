"""Dialect-aware building blocks of the repository."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from channel_common import SQLModelSession
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["Insert", "chunked", "dialect_insert"]

_IN_CHUNK = 1000
Insert = postgresql.Insert | sqlite.Insert


def dialect_insert(session: SQLModelSession, table: sa.Table) -> Insert:
    """An INSERT with ON CONFLICT support for the session's database."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunked(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    """`values` in slices of at most `size` (bounded IN lists)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
