"""Statements: list, read, approve, mark paid, void."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from channel_common import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    add_event,
    bound_partner_filter,
    decode_cursor,
    encode_cursor,
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
    after = None
    if params.cursor is not None:
        (raw,) = decode_cursor(params.cursor, arity=1)
        try:
            after = uuid.UUID(str(raw))
        except ValueError as exc:
            raise ValidationFailedError(
                "The cursor is not valid.",
                errors=[{"loc": ["query", "cursor"], "msg": "not a cursor this API issued"}],
            ) from exc
    rows = await repo.list_statements(session, filters=filters, after=after, limit=params.limit + 1)
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return Page[StatementSummary](
        items=[statement_summary(s) for s in rows],
        next_cursor=encode_cursor([str(rows[-1].id)]) if more else None,
    )


def _require_status(statement: Statement, allowed: Iterable[str], action: str) -> None:
    if statement.status not in allowed:
        raise ConflictError(
            f"A {statement.status} statement cannot be {action}.",
            extra={"statement_status": statement.status},
        )


def _refuse_partner_bound(principal: Principal) -> None:
    if principal.partner_id is not None:
        raise ForbiddenError("A partner-bound principal cannot change statements.")


async def approve_statement(
    session: SQLModelSession, *, statement_id: uuid.UUID, actor: Principal
) -> StatementRead:
    """draft → approved, recording who and when; announces it."""
    _refuse_partner_bound(actor)
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
    _refuse_partner_bound(actor)
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
    _refuse_partner_bound(actor)
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
