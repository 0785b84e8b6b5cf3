"""Partners, the tier ladder (seeded), territories and the hash-chained history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from channel_common import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The default ladder; rank 1 is the highest. Capital in minor units (cents).
DEFAULT_TIERS = [
    {
        "key": "platinum",
        "name": "Platinum",
        "rank": 1,
        "min_registered_capital_minor": 50_000_000_00,
        "min_years_in_business": 10,
        "min_service_staff": 50,
    },
    {
        "key": "gold",
        "name": "Gold",
        "rank": 2,
        "min_registered_capital_minor": 10_000_000_00,
        "min_years_in_business": 5,
        "min_service_staff": 20,
    },
    {
        "key": "silver",
        "name": "Silver",
        "rank": 3,
        "min_registered_capital_minor": 2_000_000_00,
        "min_years_in_business": 2,
        "min_service_staff": 5,
    },
    {
        "key": "registered",
        "name": "Registered",
        "rank": 4,
        "min_registered_capital_minor": 0,
        "min_years_in_business": 0,
        "min_service_staff": 0,
    },
]


def upgrade() -> None:
    tiers = op.create_table(
        "tiers",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("min_registered_capital_minor", sa.BigInteger, nullable=False),
        sa.Column("min_years_in_business", sa.Integer, nullable=False),
        sa.Column("min_service_staff", sa.Integer, nullable=False),
    )
    op.create_table(
        "partners",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("tier", sa.String(32), sa.ForeignKey("tiers.key"), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("parent_id", sa.Uuid, sa.ForeignKey("partners.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("contact_phone", sa.String(50), nullable=True),
        sa.Column("registered_capital_minor", sa.BigInteger, nullable=True),
        sa.Column("years_in_business", sa.Integer, nullable=True),
        sa.Column("service_staff", sa.Integer, nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_partners_code", "partners", ["code"], unique=True)
    op.create_index("ix_partners_region", "partners", ["region"])
    op.create_index("ix_partners_parent_id", "partners", ["parent_id"])
    op.create_index("ix_partners_status", "partners", ["status"])
    op.create_index("ix_partners_tier", "partners", ["tier"])
    op.create_table(
        "territories",
        sa.Column(
            "partner_id", sa.Uuid, sa.ForeignKey("partners.id"), primary_key=True, nullable=False
        ),
        sa.Column("region", sa.String(64), primary_key=True, nullable=False),
        sa.Column("exclusive", sa.Boolean, nullable=False),
    )
    op.create_index("ix_territories_region", "territories", ["region"])
    op.create_table(
        "partner_history",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("partner_id", sa.Uuid, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index(
        "ix_partner_history_partner_position",
        "partner_history",
        ["partner_id", "position"],
        unique=True,
    )
    op.bulk_insert(tiers, DEFAULT_TIERS)


def downgrade() -> None:
    op.drop_table("partner_history")
    op.drop_table("territories")
    op.drop_table("partners")
    op.drop_table("tiers")
