"""kpi-svc application factory."""

from channel_common import create_service_app
from fastapi import FastAPI

from .api import IMPORT_PATH, IMPORT_TYPES, OPENAPI_TAGS, ROUTERS
from .consumers import subscriptions
from .settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the kpi-svc app (settings from the environment when not given)."""
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="Channel Suite kpi-svc",
        description="KPI definitions, ingestion at volume, aggregates, targets and scorecards.",
        routers=ROUTERS,
        subscriptions=subscriptions(settings),
        # Imports are streamed and unbounded in size; they are read line by line.
        streamed_paths={IMPORT_PATH: (IMPORT_TYPES, None)},
        openapi_tags=OPENAPI_TAGS,
    )
