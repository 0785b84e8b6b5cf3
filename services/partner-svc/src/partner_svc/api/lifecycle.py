"""Routes of the lifecycle, tier changes, admission checks and the history ledger."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import Page, PageParams, ServiceRoute, SessionDep, etag_for, problem_responses
from fastapi import APIRouter, Depends, Query, Response

from .. import service
from ..schemas import (
    ChainVerification,
    HistoryEntryRead,
    PartnerRead,
    QualificationReport,
    TierChangeRequest,
    TransitionRequest,
)
from .deps import IfMatch, Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/partners/{partner_id}", route_class=ServiceRoute)


@router.post(
    "/transitions",
    response_model=PartnerRead,
    tags=["lifecycle"],
    responses=problem_responses(403, 404, 409, 412, 422),
)
async def transition_partner(
    partner_id: uuid.UUID,
    data: TransitionRequest,
    session: SessionDep,
    actor: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> PartnerRead:
    """Move a partner along its lifecycle; 409 names the allowed moves or failed checks."""
    partner = await service.transition(
        session, partner_id=partner_id, data=data, actor=actor, if_match=if_match
    )
    response.headers["ETag"] = etag_for(partner.version)
    return partner


@router.post(
    "/tier",
    response_model=PartnerRead,
    tags=["lifecycle"],
    responses=problem_responses(403, 404, 409, 412, 422),
)
async def change_tier(
    partner_id: uuid.UUID,
    data: TierChangeRequest,
    session: SessionDep,
    actor: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> PartnerRead:
    """Move a partner to another tier; an active partner must meet its admission criteria."""
    partner = await service.change_tier(
        session, partner_id=partner_id, data=data, actor=actor, if_match=if_match
    )
    response.headers["ETag"] = etag_for(partner.version)
    return partner


@router.get(
    "/qualification-check",
    response_model=QualificationReport,
    tags=["lifecycle"],
    responses=problem_responses(404, 422),
)
async def check_qualification(
    partner_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    tier: Annotated[
        str | None, Query(max_length=32, description="Another tier to check; default its own.")
    ] = None,
) -> QualificationReport:
    """The partner's qualification against a tier's admission criteria."""
    return await service.check_qualification(
        session, partner_id=partner_id, principal=principal, tier_key=tier
    )


@router.get(
    "/history",
    response_model=Page[HistoryEntryRead],
    tags=["history"],
    responses=problem_responses(404, 422),
)
async def list_history(
    partner_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    params: Annotated[PageParams, Depends()],
) -> Page[HistoryEntryRead]:
    """Every change of the partner, oldest first, with actor, time, reason and values."""
    return await service.list_history(
        session, partner_id=partner_id, params=params, principal=principal
    )


@router.get(
    "/history/verify",
    response_model=ChainVerification,
    tags=["history"],
    responses=problem_responses(404),
)
async def verify_history(
    partner_id: uuid.UUID, session: SessionDep, principal: Reader
) -> ChainVerification:
    """Recompute the partner's hash chain and report the first broken entry, if any."""
    return await service.verify_history(session, partner_id=partner_id, principal=principal)
