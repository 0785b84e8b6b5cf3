"""Routes of alert rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import Page, PageParams, ServiceRoute, SessionDep, etag_for, problem_responses
from fastapi import APIRouter, Depends, Response, status

from .. import service
from ..schemas import RuleCreate, RuleRead, RuleUpdate
from .deps import IfMatch, Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/alert-rules", tags=["alert-rules"], route_class=ServiceRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_rule(
    data: RuleCreate, session: SessionDep, actor: Writer, response: Response
) -> RuleRead:
    """Create an alert rule."""
    rule = await service.create_rule(session, data=data, actor=actor)
    response.headers["Location"] = f"{router.prefix}/{rule.id}"
    response.headers["ETag"] = etag_for(rule.version)
    return rule


@router.get("", response_model=Page[RuleRead], responses=problem_responses(401, 403, 422))
async def list_rules(
    session: SessionDep, principal: Reader, params: Annotated[PageParams, Depends()]
) -> Page[RuleRead]:
    """List alert rules, oldest first."""
    return await service.list_rules(session, params=params, principal=principal)


@router.get("/{rule_id}", response_model=RuleRead, responses=problem_responses(401, 403, 404))
async def get_rule(
    rule_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> RuleRead:
    """One alert rule."""
    rule = await service.get_rule(session, rule_id=rule_id, principal=principal)
    response.headers["ETag"] = etag_for(rule.version)
    return rule


@router.patch(
    "/{rule_id}", response_model=RuleRead, responses=problem_responses(401, 403, 404, 412, 422)
)
async def update_rule(
    rule_id: uuid.UUID,
    data: RuleUpdate,
    session: SessionDep,
    actor: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> RuleRead:
    """Change an alert rule (honours If-Match); changing what it watches resolves its alerts."""
    rule = await service.update_rule(
        session, rule_id=rule_id, data=data, actor=actor, if_match=if_match
    )
    response.headers["ETag"] = etag_for(rule.version)
    return rule


@router.delete(
    "/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404),
)
async def delete_rule(rule_id: uuid.UUID, session: SessionDep, actor: Writer) -> Response:
    """Delete an alert rule; its open alerts are resolved."""
    await service.delete_rule(session, rule_id=rule_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
