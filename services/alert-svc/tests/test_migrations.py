"""The hand-written migrations build exactly the tables the models describe, and undo cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alert_svc.models import AlertTable
from channel_common.testing import fresh_database_url, schema_differences, table_names

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
OURS = (
    "alert_rules",
    "partners",
    "kpi_values",
    "observation_days",
    "alerts",
    "silences",
    "webhooks",
    "webhook_deliveries",
    "webhook_attempts",
)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: the tests downgrade it."""
    yield from fresh_database_url(ALEMBIC_INI, tmp_path)


class TestMigrations:
    async def test_leave_no_difference_to_the_models(self, database_url: str) -> None:
        assert (
            await schema_differences(
                database_url, AlertTable.metadata, version_table="alembic_version_alert"
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
