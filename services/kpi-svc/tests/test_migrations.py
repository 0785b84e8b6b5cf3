"""The hand-written migrations build exactly the tables the models describe, and undo cleanly."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from channel_common.testing import schema_differences, table_names
from kpi_svc.models import KpiTable
from sqlalchemy import MetaData
from sqlmodel import SQLModel

from .conftest import ALEMBIC_INI

INFRASTRUCTURE = ("outbox", "inbox", "dead_letters", "idempotency_keys")


def our_tables() -> MetaData:
    """kpi-svc's tables and the infrastructure tables its first migration creates."""
    ours = MetaData()
    for name in INFRASTRUCTURE:
        SQLModel.metadata.tables[name].to_metadata(ours)
    for table in KpiTable.metadata.tables.values():
        table.to_metadata(ours)
    return ours


class TestMigrations:
    async def test_leave_no_difference_to_the_models(self, database_url: str) -> None:
        differences = await schema_differences(
            database_url, our_tables(), version_table="alembic_version_kpi"
        )
        assert differences == []

    async def test_downgrade_removes_every_kpi_table(self, database_url: str) -> None:
        config = Config(str(ALEMBIC_INI))
        config.set_main_option("sqlalchemy.url", database_url)
        await asyncio.to_thread(command.downgrade, config, "0001")
        names = await table_names(database_url)
        assert not {name for name in names if name.startswith("kpi_")}
        assert {"outbox", "inbox"} <= names
