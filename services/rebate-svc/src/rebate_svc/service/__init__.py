"""Business rules of rebate-svc. Functions take the session and keyword arguments, flush at
most, and raise channel_common domain errors; the caller commits."""

from .accruals import list_accruals, refresh_accruals
from .programs import (
    create_program,
    get_program,
    list_programs,
    retire_program,
    simulate,
    update_program,
)
from .projections import apply_aggregates, apply_partner
from .runs import create_run, get_run
from .statements import (
    approve_statement,
    get_statement,
    list_statements,
    mark_paid,
    void_statement,
)

__all__ = [
    "apply_aggregates",
    "apply_partner",
    "approve_statement",
    "create_program",
    "create_run",
    "get_program",
    "get_run",
    "get_statement",
    "list_accruals",
    "list_programs",
    "list_statements",
    "mark_paid",
    "refresh_accruals",
    "retire_program",
    "simulate",
    "update_program",
    "void_statement",
]
