"""Routes of targets and scorecards."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import (
    Page,
    PageParams,
    ServiceRoute,
    SessionDep,
    decode_cursor,
    encode_cursor,
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
    after = None
    if page.cursor:
        kpi_key, period_key, kind, scope = (
            str(part) for part in decode_cursor(page.cursor, arity=4)
        )
        after = (kpi_key, period_key, kind, scope)
    # Read before the rows: a PUT landing in between leaves the tag stale (412), never ahead.
    response.headers["ETag"] = etag_for(await service.target_set_revision(session))
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
