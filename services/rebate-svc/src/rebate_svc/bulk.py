"""Bulk writes for runs of 100,000 statements: PostgreSQL gets COPY (through the session's own
connection and transaction), other databases an executemany."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from channel_common import SQLModelSession

__all__ = ["copy_rows", "fetch_postgres", "is_postgres", "update_rows"]


def is_postgres(session: SQLModelSession) -> bool:
    """Whether the session talks to PostgreSQL."""
    return _is_postgres(session)


async def fetch_postgres(session: SQLModelSession, sql: str, *args: Any) -> list[Any]:
    """Rows of a PostgreSQL query through the driver, skipping SQLAlchemy's row processing
    (for reads of hundreds of thousands of rows)."""
    driver = await _driver(session)
    rows: list[Any] = await driver.fetch(sql, *args)
    return rows


def _is_postgres(session: SQLModelSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def _driver(session: SQLModelSession) -> Any:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _records(table: sa.Table, columns: Sequence[str], rows: list[dict[str, Any]]) -> list[Any]:
    json_columns = {c for c in columns if isinstance(table.c[c].type, sa.JSON)}
    return [
        tuple(json.dumps(row[c]) if c in json_columns else row[c] for c in columns) for row in rows
    ]


async def copy_rows(
    session: SQLModelSession, *, table: sa.Table, rows: list[dict[str, Any]]
) -> None:
    """Insert `rows` (all with the same keys) into `table`."""
    if not rows:
        return
    columns = list(rows[0])
    if not _is_postgres(session):
        await session.execute(sa.insert(table), rows)
        return
    driver = await _driver(session)
    await driver.copy_records_to_table(
        table.name, records=_records(table, columns, rows), columns=columns
    )


async def update_rows(
    session: SQLModelSession, *, table: sa.Table, rows: list[dict[str, Any]]
) -> None:
    """UPDATE by `id`: each dict names `id` and the columns to set (rows of one key set)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "id"]
    if not _is_postgres(session):
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values({name: sa.bindparam(f"b_{name}") for name in columns})
        )
        await session.execute(statement, [{f"b_{k}": v for k, v in r.items()} for r in rows])
        return
    scratch = f"bulk_{uuid.uuid4().hex}"
    listed = ", ".join(["id", *columns])
    await session.execute(
        sa.text(
            f'CREATE TEMP TABLE "{scratch}" ON COMMIT DROP AS '  # noqa: S608  (our own names)
            f'SELECT {listed} FROM "{table.name}" WITH NO DATA'
        )
    )
    driver = await _driver(session)
    await driver.copy_records_to_table(
        scratch, records=_records(table, ["id", *columns], rows), columns=["id", *columns]
    )
    assignments = ", ".join(f'"{c}" = s."{c}"' for c in columns)
    await session.execute(
        sa.text(
            f'UPDATE "{table.name}" AS t SET {assignments} '  # noqa: S608  (our own names)
            f'FROM "{scratch}" AS s WHERE t.id = s.id'
        )
    )
    await session.execute(sa.text(f'DROP TABLE "{scratch}"'))
