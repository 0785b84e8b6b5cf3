"""Alembic environment of the gateway: its own version table."""

import channel_common  # noqa: F401  (registers the infrastructure tables)
import gateway.models  # noqa: F401  (registers the gateway's tables)
from channel_common.migrations import run_migrations
from sqlmodel import SQLModel

run_migrations(
    target_metadata=SQLModel.metadata,
    version_table="alembic_version_gateway",
    env_prefix="GATEWAY_",
    default_url="sqlite+aiosqlite:///.run/gateway.db",
)
