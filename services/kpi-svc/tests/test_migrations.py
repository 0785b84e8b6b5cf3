"""The hand-written migrations build exactly the tables the models describe, and undo cleanly."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from channel_common import create_engine
from kpi_svc.models import KpiTable
from sqlalchemy import MetaData, inspect
from sqlmodel import SQLModel

from .conftest import ALEMBIC_INI


def _inspect(url: str, check: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(check)
        finally:
            await engine.dispose()

    return asyncio.run(run())


INFRASTRUCTURE = ("outbox", "inbox", "dead_letters", "idempotency_keys")


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "version_table": "alembic_version_kpi"}
    )
    # Only our tables: other packages loaded in the same test process add theirs to SQLModel's.
    infrastructure = [SQLModel.metadata.tables[name] for name in INFRASTRUCTURE]
    ours = MetaData()
    for table in [*infrastructure, *KpiTable.metadata.tables.values()]:
        table.to_metadata(ours)
    return list(compare_metadata(context, ours))


class TestMigrations:
    def test_leave_no_difference_to_the_models(self, database_url: str) -> None:
        assert _inspect(database_url, _differences) == []

    def test_downgrade_removes_every_kpi_table(self, database_url: str) -> None:
        config = Config(str(ALEMBIC_INI))
        config.set_main_option("sqlalchemy.url", database_url)
        command.downgrade(config, "0001")
        names = set(_inspect(database_url, lambda sync: inspect(sync).get_table_names()))
        assert not {name for name in names if name.startswith("kpi_")}
        assert {"outbox", "inbox"} <= names
