"""Routes of the partner register: create, read, list, patch, children."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import Page, PageParams, ServiceRoute, SessionDep, etag_for, problem_responses
from fastapi import APIRouter, Depends, Query, Response, status

from .. import service
from ..repo import PartnerFilters
from ..schemas import PartnerCreate, PartnerRead, PartnerStatus, PartnerType, PartnerUpdate, Region
from .deps import IfMatch, Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/partners", tags=["partners"], route_class=ServiceRoute)


def partner_filters(
    status: Annotated[PartnerStatus | None, Query()] = None,
    tier: Annotated[str | None, Query(max_length=32)] = None,
    partner_type: Annotated[PartnerType | None, Query(alias="type")] = None,
    region: Annotated[
        Region | None, Query(description="Region prefix: CN-GD finds CN-GD and CN-GD-SZ.")
    ] = None,
    parent_id: Annotated[uuid.UUID | None, Query()] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Name or code contains.")
    ] = None,
) -> PartnerFilters:
    """The filters of the partner list."""
    return PartnerFilters(
        status=status, tier=tier, type=partner_type, region=region, parent_id=parent_id, q=q
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnerRead,
    responses=problem_responses(403, 409, 422),
)
async def create_partner(
    data: PartnerCreate, session: SessionDep, actor: Writer, response: Response
) -> PartnerRead:
    """Register a partner; it starts as `prospect`."""
    partner = await service.create_partner(session, data=data, actor=actor)
    response.headers["Location"] = f"{router.prefix}/{partner.id}"
    response.headers["ETag"] = etag_for(partner.version)
    return partner


@router.get("", response_model=Page[PartnerRead], responses=problem_responses(404, 422))
async def list_partners(
    session: SessionDep,
    principal: Reader,
    filters: Annotated[PartnerFilters, Depends(partner_filters)],
    params: Annotated[PageParams, Depends()],
) -> Page[PartnerRead]:
    """List partners by code, filtered by status, tier, type, region, parent or text."""
    return await service.list_partners(session, filters=filters, params=params, principal=principal)


@router.get("/by-code/{code}", response_model=PartnerRead, responses=problem_responses(404))
async def get_partner_by_code(
    code: str, session: SessionDep, principal: Reader, response: Response
) -> PartnerRead:
    """One partner by its code."""
    partner = await service.get_partner_by_code(session, code=code, principal=principal)
    response.headers["ETag"] = etag_for(partner.version)
    return partner


@router.get("/{partner_id}", response_model=PartnerRead, responses=problem_responses(404))
async def get_partner(
    partner_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> PartnerRead:
    """One partner."""
    partner = await service.get_partner(session, partner_id=partner_id, principal=principal)
    response.headers["ETag"] = etag_for(partner.version)
    return partner


@router.patch(
    "/{partner_id}",
    response_model=PartnerRead,
    responses=problem_responses(403, 404, 409, 412, 422),
)
async def update_partner(
    partner_id: uuid.UUID,
    data: PartnerUpdate,
    session: SessionDep,
    actor: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> PartnerRead:
    """Change a partner's master data (not its tier or status)."""
    partner = await service.update_partner(
        session, partner_id=partner_id, data=data, actor=actor, if_match=if_match
    )
    response.headers["ETag"] = etag_for(partner.version)
    return partner


@router.get(
    "/{partner_id}/children",
    response_model=Page[PartnerRead],
    responses=problem_responses(404, 422),
)
async def list_children(
    partner_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    params: Annotated[PageParams, Depends()],
) -> Page[PartnerRead]:
    """The partner's direct children, by code."""
    return await service.list_children(
        session, partner_id=partner_id, params=params, principal=principal
    )
