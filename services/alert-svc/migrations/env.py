"""Alembic environment of alert-svc: its own version table."""

import channel_common  # noqa: F401  (registers the infrastructure tables)
from alert_svc.models import AlertTable
from channel_common.migrations import run_migrations
from sqlmodel import SQLModel

run_migrations(
    # The infrastructure tables live in SQLModel's metadata, the service's in its own.
    target_metadata=[SQLModel.metadata, AlertTable.metadata],
    version_table="alembic_version_alert",
    env_prefix="ALERT_",
    default_url="sqlite+aiosqlite:///.run/alert.db",
)
