"""Leaner ingestion writes: observations lose their KPI foreign key and their (kpi, partner,
day) index; aggregates leave room in each page for in-place (HOT) updates.

Measured on the bulk statements of a 1,000-item batch (server CPU, A/B on the same data):
- the foreign key cost a trigger and a `FOR KEY SHARE` row lock on the definition per
  inserted observation — about a quarter of the insert — and protected nothing: ingestion
  checks every item's KPI, and definitions are never deleted (the API has no DELETE);
- the (kpi, partner_id, occurred_on) index cost about 30 % of the insert; reads filter by
  partner first (`ix_kpi_observations_partner_day`), and "is this KPI in use" asks the
  aggregates, which exist exactly when observations do;
- `fillfactor = 80` on kpi_aggregates: a month aggregate is updated by every batch of its
  month; with free room in its page the update skips both index inserts (8 % of the upsert).
SQLite: the key and the index go; there is no fillfactor.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the key unnamed; batch mode finds it by this convention.
_FK = "kpi_observations_kpi_fkey"
_NAMING = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}
_INDEX = "ix_kpi_observations_kpi_partner_day"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="kpi_observations")
    with op.batch_alter_table("kpi_observations", naming_convention=_NAMING) as batch:
        batch.drop_constraint(_FK, type_="foreignkey")
    if _postgresql():
        op.execute("ALTER TABLE kpi_aggregates SET (fillfactor = 80)")


def downgrade() -> None:
    if _postgresql():
        op.execute("ALTER TABLE kpi_aggregates RESET (fillfactor)")
    with op.batch_alter_table("kpi_observations", naming_convention=_NAMING) as batch:
        batch.create_foreign_key(_FK, "kpi_definitions", ["kpi"], ["key"])
    op.create_index(_INDEX, "kpi_observations", ["kpi", "partner_id", "occurred_on"])
