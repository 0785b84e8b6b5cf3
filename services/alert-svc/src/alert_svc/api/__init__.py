"""HTTP routes of alert-svc: parse, call the service, shape the response."""

from fastapi import APIRouter

from .alerts import router as alerts_router
from .rules import router as rules_router
from .silences import router as silences_router
from .webhooks import router as webhooks_router

__all__ = ["OPENAPI_TAGS", "ROUTERS"]

ROUTERS: list[APIRouter] = [rules_router, alerts_router, silences_router, webhooks_router]
OPENAPI_TAGS = [
    {"name": "alert-rules", "description": "What to watch: KPI conditions per partner scope."},
    {"name": "alerts", "description": "Alerts from firing to resolved, and acknowledgements."},
    {"name": "silences", "description": "Mute notifications of matching alerts for a while."},
    {"name": "webhooks", "description": "Signed notifications (Standard Webhooks) and deliveries."},
]
