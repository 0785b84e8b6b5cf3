"""HTTP routes of partner-svc: parse, call the service, shape the response."""

from fastapi import APIRouter

from .lifecycle import router as lifecycle_router
from .partners import router as partners_router
from .territories import router as territories_router
from .tiers import router as tiers_router

__all__ = ["OPENAPI_TAGS", "ROUTERS"]

ROUTERS: list[APIRouter] = [partners_router, lifecycle_router, territories_router, tiers_router]
OPENAPI_TAGS = [
    {"name": "partners", "description": "The partner register: master data and hierarchy."},
    {"name": "lifecycle", "description": "Status transitions, tier changes, admission checks."},
    {"name": "history", "description": "The hash-chained change history of each partner."},
    {"name": "territories", "description": "Territories and their exclusive holders."},
    {"name": "tiers", "description": "The tier ladder and its admission criteria."},
]
