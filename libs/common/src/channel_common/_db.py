"""Async engine and sessions for SQLite (default) or PostgreSQL, plus portable column types."""

from __future__ import annotations

import sqlite3
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelSession

from ._clock import utcnow

__all__ = [
    "SQLModelSession",
    "UTCDateTime",
    "create_engine",
    "create_sessionmaker",
    "database_unavailable",
    "read_session",
    "utcnow",
]

# SQLSTATE classes of "cannot reach the database now": 08 connection exception, 57P operator
# intervention (admin shutdown, crash shutdown, cannot connect now during recovery).
_UNAVAILABLE_SQLSTATES = ("08", "57P")
# The execution option that marks an engine's transactions as read-only (see read_session).
_READS_ONLY = "channel_common_reads_only"
# Each SQLite engine's read-only view, made once (it shares the engine's pool).
_readers: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, start transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; busy_timeout waits instead of failing on a lock.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so a transaction's reads cannot go stale
    # before its writes (check-then-write rules stay serialised, as row locks do on PostgreSQL).
    # A read-only session's transactions begin deferred: in WAL they read a snapshot, beside the
    # writer and each other, and never queue for the lock.
    if connection.get_execution_options().get(_READS_ONLY):
        connection.exec_driver_sql("BEGIN DEFERRED")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; creates the SQLite file's folder and sets its pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            if "poolclass" not in kwargs:
                # As many kept connections as on PostgreSQL: with the default 5, every request
                # beyond the fifth at once opened a connection (and its thread) and closed it.
                kwargs.setdefault("pool_size", 10)
                kwargs.setdefault("max_overflow", 10)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_timeout", 5)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[SQLModelSession]:
    """SQLModel sessions that keep loaded objects usable after commit."""
    # A session class of its own per factory, so commit listeners (the outbox relay's wake-up)
    # see only this factory's sessions.
    sync_class = type("ServiceSession", (Session,), {})
    return async_sessionmaker(
        engine,
        class_=SQLModelSession,
        sync_session_class=sync_class,
        expire_on_commit=False,
        autoflush=False,
    )


def read_session(sessions: async_sessionmaker[SQLModelSession]) -> SQLModelSession:
    """A session of `sessions` for a unit of work that only reads (a GET). On SQLite its
    transactions take no write lock; a write in one still works, but may meet "database is
    locked" when another writer got in first. Elsewhere (PostgreSQL) a plain session."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return sessions()
    reader = _readers.get(bind)
    if reader is None:
        reader = _readers[bind] = bind.execution_options(**{_READS_ONLY: True})
    return sessions(bind=reader)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached right now (down, restarting, pool
    exhausted, connection cut, SQLite locked) — worth a retry later — rather than a bad
    statement. Follows the driver error (`orig`) and explicit causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError | OSError):  # OSError covers TimeoutError
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        orig = current.orig if isinstance(current, sa_exc.DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False
