"""Routes of targets and scorecards."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import (
    Page,
    PageParams,
    SessionDep,
    decode_cursor,
    encode_cursor,
    problem_responses,
)
from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field

from .. import service
from ..schemas import Scorecard, TargetIn, TargetRead
from .deps import ExactJsonRoute, Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", route_class=ExactJsonRoute)
MAX_TARGETS = 1000


@router.put(
    "/targets",
    tags=["targets"],
    responses=problem_responses(403, 422),
)
async def put_targets(
    items: Annotated[list[TargetIn], Body(), Field(min_length=1, max_length=MAX_TARGETS)],
    session: SessionDep,
    principal: Writer,
) -> list[TargetRead]:
    """Set targets per (kpi, period, scope); targets not listed stay as they are."""
    rows = await service.put_targets(session, items=items, principal=principal)
    return [service.target_view(row) for row in rows]


@router.get(
    "/targets",
    tags=["targets"],
    responses=problem_responses(422),
)
async def list_targets(
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends()],
    kpi: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> Page[TargetRead]:
    """List targets by KPI, period and scope."""
    after = None
    if page.cursor:
        kpi_key, period_key, kind, scope = (
            str(part) for part in decode_cursor(page.cursor, arity=4)
        )
        after = (kpi_key, period_key, kind, scope)
    rows = await service.list_targets(
        session, kpi=kpi, period=period, principal=principal, after=after, limit=page.limit + 1
    )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    last = rows[-1] if rows else None
    return Page[TargetRead](
        items=[service.target_view(row) for row in rows],
        next_cursor=encode_cursor([last.kpi, last.period, last.scope_kind, last.scope_value])
        if more and last
        else None,
    )


@router.get("/scorecards/{partner_id}", tags=["scorecards"], responses=problem_responses(404, 422))
async def get_scorecard(
    partner_id: uuid.UUID,
    period: Annotated[
        str, Query(max_length=10, description="2026-10-15, 2026-W42, 2026-10, 2026-Q4 or 2026.")
    ],
    session: SessionDep,
    principal: Reader,
) -> Scorecard:
    """A partner's health score for a period, with every KPI against its target."""
    return await service.get_scorecard(
        session, partner_id=partner_id, period=period, principal=principal
    )
