"""kpi-svc application factory."""

import gc
import os

from channel_common import create_service_app
from fastapi import FastAPI

from .api import IMPORT_PATH, IMPORT_TYPES, OPENAPI_TAGS, ROUTERS
from .consumers import subscriptions
from .settings import Settings

__all__ = ["create_app"]

# Ingestion allocates tens of thousands of short-lived containers per batch: collect young
# objects less often (the default, 700, runs a collection every few hundred rows).
_YOUNG_COLLECTION_THRESHOLD = 10_000
_frozen: set[int] = set()  # the process ids that froze their startup heap (once each)


async def _freeze_startup_heap(_app: FastAPI) -> None:
    """Move what startup built (modules, models, routes, pools) out of the collector's sight:
    it lives as long as the process, and every full collection would otherwise scan it again
    — a quarter of the CPU of an ingestion batch when measured. Once per process."""
    if os.getpid() in _frozen:
        return
    _frozen.add(os.getpid())
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(_YOUNG_COLLECTION_THRESHOLD, middle, old)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the kpi-svc app (settings from the environment when not given)."""
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="Channel Suite kpi-svc",
        description="KPI definitions, ingestion at volume, aggregates, targets and scorecards.",
        routers=ROUTERS,
        subscriptions=subscriptions(settings),
        background=[_freeze_startup_heap],
        # Imports are streamed and unbounded in size; they are read line by line.
        streamed_paths={IMPORT_PATH: (IMPORT_TYPES, None)},
        openapi_tags=OPENAPI_TAGS,
    )
