"""Alembic environment of kpi-svc: its own version table."""

import channel_common  # noqa: F401  (registers the infrastructure tables)
from channel_common.migrations import run_migrations
from sqlmodel import SQLModel

run_migrations(
    target_metadata=SQLModel.metadata,
    version_table="alembic_version_kpi",
    env_prefix="KPI_",
    default_url="sqlite+aiosqlite:///.run/kpi.db",
)
