"""Keyset pagination: cursors read back into typed keysets, pages cut from `limit + 1` rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from channel_common import (
    PageParams,
    ValidationFailedError,
    cursor_int,
    cursor_str,
    decode_keyset,
    encode_cursor,
    keyset_after,
    keyset_page,
    next_cursor,
)


@dataclass
class Row:
    day: date
    id: uuid.UUID


def make_rows(count: int) -> list[Row]:
    return [Row(date(2026, 10, 1 + n), uuid.UUID(int=n)) for n in range(count)]


def key(row: Row) -> list[str]:
    return [row.day.isoformat(), str(row.id)]


class TestDecodeKeyset:
    def test_no_cursor_is_no_keyset(self) -> None:
        assert decode_keyset(None, str) is None

    def test_reads_each_value_with_its_parser(self) -> None:
        row = make_rows(3)[2]
        cursor = encode_cursor(key(row))
        assert decode_keyset(cursor, date.fromisoformat, uuid.UUID) == (row.day, row.id)
        assert decode_keyset(encode_cursor(["P1", 7]), cursor_str, cursor_int) == ("P1", 7)

    @pytest.mark.parametrize(
        ("values", "parsers"),
        [
            ([3], (cursor_str,)),
            (["3"], (cursor_int,)),
            ([True], (cursor_int,)),
            (["2026-13-01", str(uuid.UUID(int=1))], (date.fromisoformat, uuid.UUID)),
            (["2026-10-01", 5], (date.fromisoformat, uuid.UUID)),
            (["a", "b"], (cursor_str,)),
        ],
    )
    def test_refuses_values_that_do_not_parse(self, values: list[object], parsers: tuple) -> None:  # type: ignore[type-arg]
        with pytest.raises(ValidationFailedError) as caught:
            decode_keyset(encode_cursor(values), *parsers)
        assert caught.value.extra["errors"] == [
            {"loc": ["query", "cursor"], "msg": "not a cursor this API issued"}
        ]


class TestKeysetPage:
    @pytest.mark.parametrize(("fetched", "more"), [(0, False), (2, False), (3, False), (4, True)])
    def test_cuts_the_page_and_points_past_its_last_row(self, fetched: int, more: bool) -> None:
        rows = make_rows(fetched)
        page = keyset_page(rows, limit=3, key=key, item=lambda row: row.id)
        assert page.items == [row.id for row in rows[:3]]
        assert page.next_cursor == (encode_cursor(key(rows[2])) if more else None)
        assert next_cursor(rows, limit=3, key=key) == page.next_cursor

    def test_fetch_limit_is_one_more_than_a_page(self) -> None:
        assert PageParams(limit=50).fetch_limit == 51


@pytest.mark.parametrize("descending", [False, True])
def test_keyset_after_walks_every_row_once_in_order(descending: bool) -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))
    rows = [(a, b) for a in range(4) for b in (3, 1, 2)]
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        table.metadata.create_all(conn)
        conn.execute(table.insert(), [{"a": a, "b": b} for a, b in rows])
        order = [table.c.a.desc(), table.c.b.desc()] if descending else [table.c.a, table.c.b]
        seen: list[tuple[int, int]] = []
        while True:
            query = sa.select(table.c.a, table.c.b).order_by(*order).limit(5)
            if seen:
                query = query.where(
                    keyset_after((table.c.a, table.c.b), seen[-1], descending=descending)
                )
            page = [(a, b) for a, b in conn.execute(query)]
            if not page:
                break
            seen += page
    assert seen == sorted(rows, reverse=descending)
