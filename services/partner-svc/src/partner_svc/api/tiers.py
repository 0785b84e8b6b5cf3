"""Routes of the tier ladder."""

from __future__ import annotations

from channel_common import ServiceRoute, SessionDep, problem_responses
from fastapi import APIRouter, Response

from .. import service
from ..schemas import TierLadder, TierRead
from .deps import IfMatch, Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tiers", tags=["tiers"], route_class=ServiceRoute)


@router.get("", response_model=list[TierRead], responses=problem_responses())
async def get_tiers(session: SessionDep, _principal: Reader, response: Response) -> list[TierRead]:
    """The tier ladder, highest tier (rank 1) first."""
    ladder = await service.get_ladder(session)
    response.headers["ETag"] = service.ladder_etag(ladder)
    return ladder


@router.put("", response_model=list[TierRead], responses=problem_responses(403, 409, 412, 422))
async def replace_tiers(
    ladder: TierLadder,
    session: SessionDep,
    actor: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> list[TierRead]:
    """Replace the whole ladder; a tier still held by a partner cannot be removed."""
    tiers = await service.replace_ladder(session, ladder=ladder, actor=actor, if_match=if_match)
    response.headers["ETag"] = service.ladder_etag(tiers)
    return tiers
