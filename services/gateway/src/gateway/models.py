"""Table models of the gateway: the API keys it exchanges for tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from channel_common import UTCDateTime, utcnow
from sqlmodel import Field, SQLModel

__all__ = ["ApiKey"]


class ApiKey(SQLModel, table=True):
    """An API key; only the SHA-256 of its secret is stored, plus a prefix to recognise it."""

    __tablename__ = "api_keys"
    __table_args__ = (sa.Index("ix_api_keys_created_at_id", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    scopes: str = Field(sa_type=sa.Text)
    partner_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def scope_list(self) -> list[str]:
        """The scopes as a list."""
        return self.scopes.split()
