"""HTTP routes of rebate-svc: parse, call the service, shape the response."""

from fastapi import APIRouter

from .accruals import router as accruals_router
from .programs import router as programs_router
from .runs import router as runs_router
from .statements import router as statements_router

__all__ = ["OPENAPI_TAGS", "ROUTERS"]

ROUTERS: list[APIRouter] = [programs_router, runs_router, statements_router, accruals_router]
OPENAPI_TAGS = [
    {"name": "programs", "description": "Rebate programs, their versions and simulation."},
    {"name": "runs", "description": "Computing a program period's statements."},
    {"name": "statements", "description": "Statements: breakdown, approval, payment."},
    {"name": "accruals", "description": "Live accruals of the open period."},
]
