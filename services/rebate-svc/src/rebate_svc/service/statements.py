"""Statements: list, read, approve, mark paid, void."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from channel_common import (
    ConflictError,
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    add_event,
    bound_partner_filter,
    decode_keyset,
    keyset_page,
    refuse_partner_bound,
    utcnow,
)

from .. import repo
from ..events import SOURCE, STATEMENT_APPROVED, STATEMENT_PAID
from ..metrics import AMOUNT_APPROVED, STATEMENTS_SETTLED
from ..models import Statement
from ..repo import StatementFilters
from ..schemas import StatementRead, StatementSummary
from .views import statement_event, statement_read, statement_summary

__all__ = [
    "approve_statement",
    "get_statement",
    "list_statements",
    "mark_paid",
    "void_statement",
]


async def _visible(
    session: SQLModelSession,
    *,
    statement_id: uuid.UUID,
    principal: Principal,
    for_update: bool = False,
) -> Statement:
    statement = await repo.get_statement(session, statement_id=statement_id, for_update=for_update)
    if statement is None or (
        principal.partner_id is not None and statement.partner_id != principal.partner_id
    ):
        raise NotFoundError("Rebate statement not found.")
    return statement


async def get_statement(
    session: SQLModelSession, *, statement_id: uuid.UUID, principal: Principal
) -> StatementRead:
    """One statement with its breakdown (404 when not visible to `principal`)."""
    return statement_read(await _visible(session, statement_id=statement_id, principal=principal))


async def list_statements(
    session: SQLModelSession,
    *,
    filters: StatementFilters,
    params: PageParams,
    principal: Principal,
) -> Page[StatementSummary]:
    """A page of statements by id; a partner portal sees its own only."""
    partner_id = bound_partner_filter(principal, filters.partner_id)
    filters = StatementFilters(
        program_id=filters.program_id,
        partner_id=partner_id,
        period=filters.period,
        status=filters.status,
    )
    (after,) = decode_keyset(params.cursor, uuid.UUID) or (None,)
    rows = await repo.list_statements(
        session, filters=filters, after=after, limit=params.fetch_limit
    )
    return keyset_page(
        rows, limit=params.limit, key=lambda row: [str(row.id)], item=statement_summary
    )


def _require_status(statement: Statement, allowed: Iterable[str], action: str) -> None:
    if statement.status not in allowed:
        raise ConflictError(
            f"A {statement.status} statement cannot be {action}.",
            extra={"statement_status": statement.status},
        )


async def approve_statement(
    session: SQLModelSession, *, statement_id: uuid.UUID, actor: Principal
) -> StatementRead:
    """draft → approved, recording who and when; announces it."""
    refuse_partner_bound(actor, "change statements", verb="cannot")
    statement = await _visible(session, statement_id=statement_id, principal=actor, for_update=True)
    _require_status(statement, ("draft",), "approved")
    now = utcnow()
    statement.status, statement.approved_by, statement.approved_at = "approved", actor.subject, now
    _touch(session, statement, STATEMENT_APPROVED)
    STATEMENTS_SETTLED.labels("approved").inc()
    if statement.amount_minor > 0:
        approved = AMOUNT_APPROVED.labels(str(statement.program_id), statement.currency)
        approved.inc(statement.amount_minor)
    return statement_read(statement)


async def mark_paid(
    session: SQLModelSession, *, statement_id: uuid.UUID, payment_ref: str, actor: Principal
) -> StatementRead:
    """approved → paid with the payment reference; announces it."""
    refuse_partner_bound(actor, "change statements", verb="cannot")
    statement = await _visible(session, statement_id=statement_id, principal=actor, for_update=True)
    _require_status(statement, ("approved",), "marked paid")
    statement.status, statement.paid_at, statement.payment_ref = "paid", utcnow(), payment_ref
    _touch(session, statement, STATEMENT_PAID)
    STATEMENTS_SETTLED.labels("paid").inc()
    return statement_read(statement)


async def void_statement(
    session: SQLModelSession, *, statement_id: uuid.UUID, actor: Principal
) -> StatementRead:
    """draft → void (a later run computes the partner afresh)."""
    refuse_partner_bound(actor, "change statements", verb="cannot")
    statement = await _visible(session, statement_id=statement_id, principal=actor, for_update=True)
    _require_status(statement, ("draft",), "voided")
    statement.status = "void"
    _touch(session, statement, None)
    return statement_read(statement)


def _touch(session: SQLModelSession, statement: Statement, event_type: str | None) -> None:
    statement.version += 1
    statement.updated_at = utcnow()
    session.add(statement)
    if event_type is not None:
        add_event(
            session,
            event_type=event_type,
            source=SOURCE,
            subject=str(statement.id),
            data=statement_event(statement),
        )
