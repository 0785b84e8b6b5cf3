"""The hand-written migrations build exactly the tables the models describe, and undo cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from channel_common.testing import schema_differences, table_names
from partner_svc.models import PartnerTable

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
OURS = ("partners", "tiers", "territories", "partner_history")


class TestMigrations:
    async def test_leave_no_difference_to_the_models(self, database_url: str) -> None:
        assert (
            await schema_differences(
                database_url, PartnerTable.metadata, version_table="alembic_version_partner"
            )
            == []
        )

    async def test_downgrade_and_upgrade_again(self, database_url: str) -> None:
        config = Config(str(ALEMBIC_INI))
        config.set_main_option("sqlalchemy.url", database_url)
        await asyncio.to_thread(command.downgrade, config, "0001")
        assert not set(OURS) & await table_names(database_url)
        await asyncio.to_thread(command.upgrade, config, "head")
        assert set(OURS) <= await table_names(database_url)
