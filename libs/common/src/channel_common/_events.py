"""CloudEvents 1.0 binary-mode envelope over NATS headers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ._db import utcnow
from ._logging import child_traceparent

__all__ = ["ReceivedEvent", "build_headers", "encode_data"]

_REQUIRED = ("ce-id", "ce-type", "ce-source", "ce-specversion")


def build_headers(
    *,
    event_type: str,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> dict[str, str]:
    """The `ce-*` headers of one event; `Nats-Msg-Id` = `ce-id` so JetStream drops a replay.
    `traceparent` defaults to the current trace context's (the request or event in hand)."""
    ce_id = event_id or str(uuid.uuid4())
    headers = {
        "ce-specversion": "1.0",
        "ce-id": ce_id,
        "ce-type": event_type,
        "ce-source": source,
        "ce-time": (time or utcnow()).isoformat().replace("+00:00", "Z"),
        "content-type": "application/json",
        "Nats-Msg-Id": ce_id,
    }
    if subject is not None:
        headers["ce-subject"] = subject
    traceparent = traceparent or child_traceparent()
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


def encode_data(data: BaseModel | dict[str, Any]) -> bytes:
    """The JSON body of an event (decimals as strings, timestamps RFC 3339)."""
    if isinstance(data, BaseModel):
        return data.model_dump_json().encode()
    return json.dumps(data, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class ReceivedEvent:
    """An event as a consumer sees it: the envelope attributes and the decoded `data`."""

    id: str
    type: str
    source: str
    subject: str | None
    time: str | None
    data: Any
    nats_subject: str
    traceparent: str | None = None

    @classmethod
    def from_message(
        cls, *, nats_subject: str, headers: dict[str, str] | None, payload: bytes
    ) -> ReceivedEvent:
        """Parse a NATS message; ValueError when it is not a binary-mode CloudEvent."""
        headers = headers or {}
        missing = [h for h in _REQUIRED if h not in headers]
        if missing:
            raise ValueError(f"missing CloudEvents headers: {', '.join(missing)}")
        return cls(
            id=headers["ce-id"],
            type=headers["ce-type"],
            source=headers["ce-source"],
            subject=headers.get("ce-subject"),
            time=headers.get("ce-time"),
            data=json.loads(payload, parse_float=Decimal) if payload else None,
            nats_subject=nats_subject,
            traceparent=headers.get("traceparent"),
        )
