"""rebate-svc application factory."""

from channel_common import create_service_app
from fastapi import FastAPI

from . import models  # noqa: F401  (registers the tables)
from .api import OPENAPI_TAGS, ROUTERS
from .consumers import subscriptions
from .settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the rebate-svc app (settings from the environment when not given)."""
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="Channel Suite rebate-svc",
        description="Tiered rebate programs, statements, runs, simulation and live accruals.",
        routers=ROUTERS,
        subscriptions=subscriptions(settings),
        openapi_tags=OPENAPI_TAGS,
    )
