"""alert-svc application factory."""

from channel_common import create_service_app
from fastapi import FastAPI

from . import models  # noqa: F401  (registers the tables)
from .api import OPENAPI_TAGS, ROUTERS
from .consumers import subscriptions
from .settings import Settings
from .workers import run_deliveries, run_gauge, run_sweep

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the alert-svc app (settings from the environment when not given)."""
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="Channel Suite alert-svc",
        description="KPI alert rules, alerts, silences and signed webhooks.",
        routers=ROUTERS,
        openapi_tags=OPENAPI_TAGS,
        subscriptions=subscriptions(),
        background=[run_deliveries, run_sweep, run_gauge],
    )
