"""Infrastructure tables every service database has: outbox, inbox, dead letters, idempotency."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ._db import UTCDateTime, utcnow

__all__ = ["DeadLetter", "IdempotencyRecord", "InboxEntry", "OutboxMessage"]

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class OutboxMessage(SQLModel, table=True):
    """An event written in the same transaction as the change it announces."""

    __tablename__ = "outbox"

    seq: int | None = Field(default=None, sa_column=sa.Column(_BigId, primary_key=True))
    event_id: str = Field(max_length=36, unique=True)
    subject: str = Field(max_length=200)
    headers: str = Field(sa_type=sa.Text)
    payload: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class InboxEntry(SQLModel, table=True):
    """An event a consumer has applied; recorded in the same transaction as its effect."""

    __tablename__ = "inbox"

    consumer: str = Field(max_length=100, primary_key=True)
    event_id: str = Field(max_length=64, primary_key=True)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeadLetter(SQLModel, table=True):
    """An event a consumer gave up on after its last delivery."""

    __tablename__ = "dead_letters"

    id: int | None = Field(default=None, sa_column=sa.Column(_BigId, primary_key=True))
    consumer: str = Field(max_length=100, index=True)
    subject: str = Field(max_length=200)
    event_id: str | None = Field(default=None, max_length=64)
    deliveries: int
    error: str = Field(sa_type=sa.Text)
    headers: str = Field(sa_type=sa.Text)
    payload: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer to a POST made with an `Idempotency-Key`, per principal."""

    __tablename__ = "idempotency_keys"

    principal: str = Field(max_length=200, primary_key=True)
    key: str = Field(max_length=200, primary_key=True)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    headers: str | None = Field(default=None, sa_type=sa.Text)
    body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
