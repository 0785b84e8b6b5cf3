"""What every kpi-svc router shares: route classes, principals, settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from channel_common import (
    BaseServiceSettings,
    DomainError,
    Principal,
    StreamedRoute,
    require_scopes,
)
from fastapi import Depends, Request

from ..settings import Settings

__all__ = [
    "ImportRoute",
    "Reader",
    "SettingsDep",
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


class ImportRoute(StreamedRoute):
    """The route of file imports: a claimed `Idempotency-Key` waits as long as an import."""

    log_event = "import_idempotency_key"

    def key_lock(self, settings: BaseServiceSettings) -> timedelta:
        """`import_key_lock_seconds`: an import runs far longer than a request."""
        if isinstance(settings, Settings):
            return timedelta(seconds=settings.import_key_lock_seconds)
        return super().key_lock(settings)
