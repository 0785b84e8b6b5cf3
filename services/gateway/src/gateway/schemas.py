"""API models of the gateway's own routes: the API-key ladder."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from channel_common import SCOPES
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

__all__ = ["ApiKeyCreate", "ApiKeyCreated", "ApiKeyRead"]


def _known_scope(value: str) -> str:
    if value not in SCOPES:
        raise ValueError(f"unknown scope; one of: {', '.join(SCOPES)}")
    return value


Scope = Annotated[
    str,
    AfterValidator(_known_scope),
    WithJsonSchema({"type": "string", "enum": list(SCOPES)}),
]


class ApiKeyCreate(BaseModel):
    """A new API key: who it is for, what it may do, and optionally the partner it is bound to."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, examples=["erp-nightly-import"])
    scopes: list[Scope] = Field(min_length=1, max_length=len(SCOPES), examples=[["kpis:write"]])
    partner_id: uuid.UUID | None = Field(
        default=None, description="Bind the key to one partner (a partner portal)."
    )

    @field_validator("scopes")
    @classmethod
    def _deduplicate(cls, scopes: list[str]) -> list[str]:
        return sorted(set(scopes))


class ApiKeyRead(BaseModel):
    """An API key as listed: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    scopes: list[str]
    partner_id: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, scopes: Any) -> Any:
        return scopes.split() if isinstance(scopes, str) else scopes


class ApiKeyCreated(ApiKeyRead):
    """A key just created: the only answer that shows the secret `key`."""

    key: str = Field(description="The secret; shown only once. Send as `Authorization: Bearer`.")
