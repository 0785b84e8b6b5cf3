"""Routes of live accruals."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import Page, PageParams, ServiceRoute, SessionDep, problem_responses
from fastapi import APIRouter, Depends, Query

from .. import service
from ..schemas import AccrualRead
from .deps import Reader, SettingsDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/accruals", tags=["accruals"], route_class=ServiceRoute)


@router.get("", response_model=Page[AccrualRead], responses=problem_responses(404, 422))
async def list_accruals(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    params: Annotated[PageParams, Depends()],
    program_id: Annotated[uuid.UUID | None, Query()] = None,
    partner_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[AccrualRead]:
    """Accruals of the open period (the program period containing today, UTC)."""
    return await service.list_accruals(
        session,
        program_id=program_id,
        partner_id=partner_id,
        params=params,
        principal=principal,
        today=settings.today(),
    )
