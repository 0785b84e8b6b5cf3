"""The HTTP routes of kpi-svc."""

from fastapi import APIRouter

from . import definitions, kpis, observations, targets
from .observations import IMPORT_PATH, IMPORT_TYPES

__all__ = ["IMPORT_PATH", "IMPORT_TYPES", "OPENAPI_TAGS", "ROUTERS"]

ROUTERS: list[APIRouter] = [
    definitions.router,
    observations.router,
    observations.import_router,
    kpis.router,
    targets.router,
]
OPENAPI_TAGS = [
    {"name": "kpi-definitions", "description": "What each KPI is and how it aggregates."},
    {"name": "observations", "description": "Ingestion at volume and raw reads."},
    {"name": "kpis", "description": "Series, period summaries (MoM, YoY) and rankings."},
    {"name": "targets", "description": "Targets per KPI, period and scope."},
    {"name": "scorecards", "description": "Partner health scores against targets."},
]
