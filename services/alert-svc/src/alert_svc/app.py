"""alert-svc application factory."""

from channel_common import create_service_app
from fastapi import FastAPI

from .settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the alert-svc app (settings from the environment when not given)."""
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="Channel Suite alert-svc",
        description="KPI alert rules, alerts, silences and signed webhooks.",
        routers=[],
    )
