"""Alembic environment of kpi-svc: its own version table."""

import channel_common  # noqa: F401  (registers the infrastructure tables)
from channel_common.migrations import run_migrations
from kpi_svc.models import KpiTable
from sqlmodel import SQLModel

run_migrations(
    # The infrastructure tables live in SQLModel's metadata, the service's in its own.
    target_metadata=[SQLModel.metadata, KpiTable.metadata],  # type: ignore[arg-type]
    version_table="alembic_version_kpi",
    env_prefix="KPI_",
    default_url="sqlite+aiosqlite:///.run/kpi.db",
)
