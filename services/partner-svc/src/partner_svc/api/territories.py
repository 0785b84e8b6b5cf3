"""Routes of territories: replace a partner's list, find a region's exclusive holder."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import ServiceRoute, SessionDep, etag_for, problem_responses
from fastapi import APIRouter, Body, Query, Response

from .. import service
from ..schemas import (
    PartnerRead,
    Region,
    TerritoriesReplace,
    TerritoryList,
    TerritoryOwnerRead,
)
from .deps import IfMatch, Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["territories"], route_class=ServiceRoute)
TerritoriesBody = Annotated[
    TerritoryList | TerritoriesReplace,
    Body(description="The new list, bare or as {territories, reason}."),
]


@router.put(
    "/partners/{partner_id}/territories",
    response_model=PartnerRead,
    responses=problem_responses(403, 404, 409, 412, 422),
)
async def replace_territories(
    partner_id: uuid.UUID,
    body: TerritoriesBody,
    session: SessionDep,
    actor: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> PartnerRead:
    """Replace a partner's territories; 409 names the holder of an overlapping exclusive one."""
    data = body if isinstance(body, TerritoriesReplace) else TerritoriesReplace(territories=body)
    partner = await service.replace_territories(
        session, partner_id=partner_id, data=data, actor=actor, if_match=if_match
    )
    response.headers["ETag"] = etag_for(partner.version)
    return partner


@router.get(
    "/territories/owner",
    response_model=TerritoryOwnerRead,
    responses=problem_responses(404, 422),
)
async def find_territory_owner(
    region: Annotated[Region, Query(description="A region code, e.g. CN-GD-SZ.")],
    session: SessionDep,
    principal: Reader,
) -> TerritoryOwnerRead:
    """The live partner holding the region, or its nearest ancestor, exclusively."""
    return await service.find_owner(session, region=region, principal=principal)
