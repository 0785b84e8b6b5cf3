"""Routes of the KPI definitions."""

from __future__ import annotations

from typing import Annotated

from channel_common import (
    Page,
    PageParams,
    ServiceRoute,
    SessionDep,
    etag_for,
    problem_responses,
)
from fastapi import APIRouter, Depends, Header, Path, Response, status

from .. import service
from ..schemas import KpiDefinitionCreate, KpiDefinitionRead, KpiDefinitionUpdate
from .deps import Reader, Writer

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/kpi-definitions", tags=["kpi-definitions"], route_class=ServiceRoute
)
KeyPath = Annotated[str, Path(max_length=64, description="The KPI key, e.g. sales_amount.")]


@router.get("", responses=problem_responses(422))
async def list_definitions(
    session: SessionDep, _: Reader, page: Annotated[PageParams, Depends()]
) -> Page[KpiDefinitionRead]:
    """List the KPI definitions by key."""
    return await service.list_definitions(session, params=page)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(403, 409))
async def create_definition(
    data: KpiDefinitionCreate, session: SessionDep, principal: Writer, response: Response
) -> KpiDefinitionRead:
    """Define a new KPI."""
    definition = await service.create_definition(session, data=data, principal=principal)
    response.headers["ETag"] = etag_for(definition.version)
    response.headers["Location"] = f"{router.prefix}/{definition.key}"
    return service.definition_view(definition)


@router.get("/{key}", responses=problem_responses(404))
async def get_definition(
    key: KeyPath, session: SessionDep, _: Reader, response: Response
) -> KpiDefinitionRead:
    """One KPI definition (with its ETag)."""
    definition = await service.get_definition(session, key=key)
    response.headers["ETag"] = etag_for(definition.version)
    return service.definition_view(definition)


@router.patch("/{key}", responses=problem_responses(403, 404, 409, 412))
async def update_definition(
    key: KeyPath,
    data: KpiDefinitionUpdate,
    session: SessionDep,
    principal: Writer,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> KpiDefinitionRead:
    """Change a KPI definition (honours If-Match; the aggregation of a KPI in use is fixed)."""
    definition = await service.update_definition(
        session, key=key, data=data, if_match=if_match, principal=principal
    )
    response.headers["ETag"] = etag_for(definition.version)
    return service.definition_view(definition)
