"""Routes of targets and scorecards."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import (
    Page,
    PageParams,
    ServiceRoute,
    SessionDep,
    etag_for,
    problem_responses,
)
from fastapi import APIRouter, Body, Depends, Header, Query, Response
from pydantic import Field

from .. import service
from ..schemas import Scorecard, TargetIn, TargetRead
from .deps import Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", route_class=ServiceRoute)
MAX_TARGETS = 1000


@router.put(
    "/targets",
    tags=["targets"],
    responses=problem_responses(403, 412, 422),
)
async def put_targets(
    items: Annotated[list[TargetIn], Body(), Field(min_length=1, max_length=MAX_TARGETS)],
    session: SessionDep,
    principal: Writer,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> list[TargetRead]:
    """Set targets per (kpi, period, scope); others stay (honours If-Match on the whole set)."""
    stored = await service.put_targets(session, items=items, if_match=if_match, principal=principal)
    response.headers["ETag"] = etag_for(stored.revision)
    return [service.target_view(row) for row in stored.targets]


@router.get(
    "/targets",
    tags=["targets"],
    responses=problem_responses(422),
)
async def list_targets(
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends()],
    response: Response,
    kpi: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> Page[TargetRead]:
    """List targets by KPI, period and scope (the ETag is the whole target set's)."""
    listed = await service.list_targets(
        session, kpi=kpi, period=period, principal=principal, params=page
    )
    response.headers["ETag"] = etag_for(listed.revision)
    return listed.page


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
