"""Dependencies shared by the routers: principals by scope, settings, `If-Match`."""

from __future__ import annotations

from typing import Annotated

from channel_common import Principal, require_scopes
from fastapi import Depends, Header, Request

from ..settings import Settings

__all__ = ["Approver", "IfMatch", "Reader", "SettingsDep", "Writer"]

Reader = Annotated[Principal, Depends(require_scopes("rebates:read"))]
Writer = Annotated[Principal, Depends(require_scopes("rebates:write"))]
Approver = Annotated[Principal, Depends(require_scopes("rebates:approve"))]
IfMatch = Annotated[
    str | None, Header(description="The ETag you read; a stale one is refused with 412.")
]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
