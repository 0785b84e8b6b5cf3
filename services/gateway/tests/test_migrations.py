"""The migrations build exactly the tables the models describe."""

from __future__ import annotations

from typing import Any

import gateway.models  # noqa: F401  (registers the tables)
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from channel_common import create_engine
from sqlmodel import SQLModel


class TestMigrations:
    async def test_leave_no_difference_to_the_models(self, database_url: str) -> None:
        def compare(connection: Any) -> list[Any]:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": "alembic_version_gateway"}
            )
            return list(compare_metadata(context, SQLModel.metadata))

        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                differences = await connection.run_sync(compare)
        finally:
            await engine.dispose()

        ours = [d for d in differences if "api_keys" in repr(d) or "idempotency" in repr(d)]
        assert ours == []
