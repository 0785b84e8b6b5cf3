"""What every kpi-svc router shares: route classes, principals, settings."""

from __future__ import annotations

from typing import Annotated

from channel_common import DomainError, Principal, require_scopes
from fastapi import Depends, Request

from ..settings import Settings
from .streamed import StreamedRoute, StreamedSessionDep

__all__ = [
    "Reader",
    "SettingsDep",
    "StreamedRoute",
    "StreamedSessionDep",
    "UnsupportedMediaTypeError",
    "Writer",
]

Reader = Annotated[Principal, Depends(require_scopes("kpis:read"))]
Writer = Annotated[Principal, Depends(require_scopes("kpis:write"))]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


class UnsupportedMediaTypeError(DomainError):
    """The body's content type is not one the route takes."""

    status, code = 415, "unsupported-media-type"
