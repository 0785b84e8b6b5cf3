"""The hand-written migrations build exactly the tables the models describe, and undo cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from channel_common import create_engine
from rebate_svc.models import RebateTable
from sqlalchemy import inspect

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
OURS = (
    "rebate_programs",
    "rebate_partners",
    "rebate_kpi_aggregates",
    "rebate_runs",
    "rebate_statements",
    "rebate_accruals",
)


async def differences(url: str) -> list[Any]:
    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": "alembic_version_rebate"}
        )
        return list(compare_metadata(context, RebateTable.metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found: list[Any] = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    return [d for d in found if any(table in repr(d) for table in OURS)]


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names: list[str] = await connection.run_sync(
                lambda sync: inspect(sync).get_table_names()
            )
    finally:
        await engine.dispose()
    return set(names)


class TestMigrations:
    async def test_leave_no_difference_to_the_models(self, database_url: str) -> None:
        assert await differences(database_url) == []

    async def test_downgrade_and_upgrade_again(self, database_url: str) -> None:
        config = Config(str(ALEMBIC_INI))
        config.set_main_option("sqlalchemy.url", database_url)
        await asyncio.to_thread(command.downgrade, config, "0001")
        assert not set(OURS) & await table_names(database_url)
        await asyncio.to_thread(command.upgrade, config, "head")
        assert set(OURS) <= await table_names(database_url)
