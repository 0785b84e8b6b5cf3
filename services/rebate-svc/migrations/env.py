"""Alembic environment of rebate-svc: its own version table."""

from sqlmodel import SQLModel

import channel_common  # noqa: F401  (registers the infrastructure tables)
from channel_common.migrations import run_migrations

run_migrations(
    target_metadata=SQLModel.metadata,
    version_table="alembic_version_rebate",
    env_prefix="REBATE_",
    default_url="sqlite+aiosqlite:///.run/rebate.db",
)
