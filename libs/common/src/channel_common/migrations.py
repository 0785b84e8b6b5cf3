"""Alembic helpers: each service's `migrations/env.py` calls `run_migrations`, and its first
revision creates the infrastructure tables with `create_infrastructure_tables`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from ._db import UTCDateTime, create_engine

__all__ = [
    "create_infrastructure_tables",
    "drop_infrastructure_tables",
    "run_migrations",
    "upgrade_database",
]

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade_database(alembic_ini: str | Path, database_url: str) -> None:
    """Apply every migration of the service whose `alembic.ini` is given."""
    config = Config(str(alembic_ini))
    config.set_main_option("sqlalchemy.url", database_url)
    command.upgrade(config, "head")


def run_migrations(
    *,
    target_metadata: MetaData | list[MetaData],
    version_table: str,
    env_prefix: str,
    default_url: str,
) -> None:
    """The body of a service's `env.py`: online migrations over the async engine."""
    url = (
        context.config.get_main_option("sqlalchemy.url")
        or os.environ.get(f"{env_prefix}DATABASE_URL")
        or default_url
    )

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(url, poolclass=sa.pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run())
        return
    raise RuntimeError("run migrations outside an event loop (e.g. asyncio.to_thread)")


def create_infrastructure_tables() -> None:
    """Version 1 of the outbox, inbox, dead-letter and idempotency tables."""
    op.create_table(
        "outbox",
        sa.Column("seq", _BigId, primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("consumer", sa.String(100), nullable=False, index=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("headers", sa.Text, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column("locked_until", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    )


def drop_infrastructure_tables() -> None:
    """Undo `create_infrastructure_tables`."""
    for table in ("idempotency_keys", "dead_letters", "inbox", "outbox"):
        op.drop_table(table)
