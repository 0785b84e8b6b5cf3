"""Alembic environment of partner-svc: its own version table."""

import channel_common  # noqa: F401  (registers the infrastructure tables)
from channel_common.migrations import run_migrations
from partner_svc.models import PartnerTable
from sqlmodel import SQLModel

run_migrations(
    # The infrastructure tables live in SQLModel's metadata, the service's in its own.
    target_metadata=[SQLModel.metadata, PartnerTable.metadata],
    version_table="alembic_version_partner",
    env_prefix="PARTNER_",
    default_url="sqlite+aiosqlite:///.run/partner.db",
)
