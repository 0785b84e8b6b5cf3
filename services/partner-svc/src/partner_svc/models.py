"""Table models of partner-svc: partners, the tier ladder, territories and the history ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from channel_common import UTCDateTime, utcnow
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = ["HistoryEntry", "Partner", "Territory", "Tier"]

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class PartnerTable(SQLModel, registry=registry()):
    """Base of partner-svc's tables: a metadata of their own, so that the services' models do
    not mix when several are imported into one process (workspace tests, tooling)."""


class Tier(PartnerTable, table=True):
    """One rung of the tier ladder (rank 1 is the highest) and its admission criteria."""

    __tablename__ = "tiers"

    key: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    rank: int
    # Money as integer minor units (cents): exact on SQLite and PostgreSQL alike.
    min_registered_capital_minor: int = Field(default=0, sa_type=sa.BigInteger)
    min_years_in_business: int = 0
    min_service_staff: int = 0


class Partner(PartnerTable, table=True):
    """A sales-channel partner."""

    __tablename__ = "partners"
    __table_args__ = (
        sa.Index("ix_partners_code", "code", unique=True),
        sa.Index("ix_partners_region", "region"),
        sa.Index("ix_partners_parent_id", "parent_id"),
        sa.Index("ix_partners_status", "status"),
        sa.Index("ix_partners_tier", "tier"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    type: str = Field(max_length=20)
    tier: str = Field(max_length=32, foreign_key="tiers.key")
    region: str = Field(max_length=64)
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="partners.id")
    status: str = Field(max_length=20)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=50)
    registered_capital_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    years_in_business: int | None = None
    service_staff: int | None = None
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Territory(PartnerTable, table=True):
    """A region a partner covers; `exclusive` means no other live partner may overlap it."""

    __tablename__ = "territories"
    __table_args__ = (sa.Index("ix_territories_region", "region"),)

    partner_id: uuid.UUID = Field(foreign_key="partners.id", primary_key=True)
    region: str = Field(max_length=64, primary_key=True)
    exclusive: bool = False


class HistoryEntry(PartnerTable, table=True):
    """One change of a partner, hash-chained to the partner's previous entry."""

    __tablename__ = "partner_history"
    __table_args__ = (
        sa.Index("ix_partner_history_partner_position", "partner_id", "position", unique=True),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(_BigId, primary_key=True))
    partner_id: uuid.UUID = Field(foreign_key="partners.id")
    position: int
    action: str = Field(max_length=40)
    actor: str = Field(max_length=200)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    at: datetime = Field(sa_type=UTCDateTime)
    version: int
    # Canonical JSON text of the changed values, exactly what the hash covers.
    before: str | None = Field(default=None, sa_type=sa.Text)
    after: str = Field(sa_type=sa.Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
