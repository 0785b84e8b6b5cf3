"""Routes of rebate statements."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from channel_common import Page, PageParams, ServiceRoute, SessionDep, etag_for, problem_responses
from fastapi import APIRouter, Depends, Query, Response

from .. import service
from ..repo import StatementFilters
from ..schemas import PaymentRequest, StatementRead, StatementSummary
from .deps import Approver, Reader, Writer

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/rebate-statements", tags=["statements"], route_class=ServiceRoute
)


def statement_filters(
    program_id: Annotated[uuid.UUID | None, Query()] = None,
    partner_id: Annotated[uuid.UUID | None, Query()] = None,
    period: Annotated[str | None, Query(max_length=7)] = None,
    statement_status: Annotated[
        Literal["draft", "approved", "paid", "void"] | None, Query(alias="status")
    ] = None,
) -> StatementFilters:
    """The filters of the statement list."""
    return StatementFilters(
        program_id=program_id, partner_id=partner_id, period=period, status=statement_status
    )


@router.get("", response_model=Page[StatementSummary], responses=problem_responses(404, 422))
async def list_statements(
    session: SessionDep,
    principal: Reader,
    filters: Annotated[StatementFilters, Depends(statement_filters)],
    params: Annotated[PageParams, Depends()],
) -> Page[StatementSummary]:
    """List statements, filtered by program, partner, period and status."""
    return await service.list_statements(
        session, filters=filters, params=params, principal=principal
    )


@router.get("/{statement_id}", response_model=StatementRead, responses=problem_responses(404))
async def get_statement(
    statement_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> StatementRead:
    """One statement with its full breakdown and explanation."""
    statement = await service.get_statement(session, statement_id=statement_id, principal=principal)
    response.headers["ETag"] = etag_for(statement.version)
    return statement


@router.post(
    "/{statement_id}/approve",
    response_model=StatementRead,
    responses=problem_responses(403, 404, 409),
)
async def approve_statement(
    statement_id: uuid.UUID, session: SessionDep, actor: Approver, response: Response
) -> StatementRead:
    """Approve a draft statement (records who and when)."""
    statement = await service.approve_statement(session, statement_id=statement_id, actor=actor)
    response.headers["ETag"] = etag_for(statement.version)
    return statement


@router.post(
    "/{statement_id}/mark-paid",
    response_model=StatementRead,
    responses=problem_responses(403, 404, 409, 422),
)
async def mark_paid(
    statement_id: uuid.UUID,
    data: PaymentRequest,
    session: SessionDep,
    actor: Writer,
    response: Response,
) -> StatementRead:
    """Mark an approved statement paid with its payment reference."""
    statement = await service.mark_paid(
        session, statement_id=statement_id, payment_ref=data.payment_ref, actor=actor
    )
    response.headers["ETag"] = etag_for(statement.version)
    return statement


@router.post(
    "/{statement_id}/void",
    response_model=StatementRead,
    responses=problem_responses(403, 404, 409),
)
async def void_statement(
    statement_id: uuid.UUID, session: SessionDep, actor: Writer, response: Response
) -> StatementRead:
    """Void a draft statement."""
    statement = await service.void_statement(session, statement_id=statement_id, actor=actor)
    response.headers["ETag"] = etag_for(statement.version)
    return statement
