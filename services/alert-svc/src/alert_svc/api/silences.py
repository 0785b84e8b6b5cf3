"""Routes of silences."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import (
    Page,
    PageParams,
    ServiceRoute,
    SessionDep,
    content_etag,
    problem_responses,
)
from fastapi import APIRouter, Depends, Response, status

from .. import service
from ..schemas import SilenceCreate, SilenceRead
from .deps import Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/silences", tags=["silences"], route_class=ServiceRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SilenceRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_silence(
    data: SilenceCreate, session: SessionDep, actor: Writer, response: Response
) -> SilenceRead:
    """Silence notifications of alerts whose labels match, between two instants."""
    silence = await service.create_silence(session, data=data, actor=actor)
    response.headers["Location"] = f"{router.prefix}/{silence.id}"
    return silence


@router.get("", response_model=Page[SilenceRead], responses=problem_responses(401, 403, 422))
async def list_silences(
    session: SessionDep, principal: Reader, params: Annotated[PageParams, Depends()]
) -> Page[SilenceRead]:
    """List silences, newest first."""
    return await service.list_silences(session, params=params, principal=principal)


@router.get("/{silence_id}", response_model=SilenceRead, responses=problem_responses(401, 403, 404))
async def get_silence(
    silence_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> SilenceRead:
    """One silence, marked active or not as of now."""
    silence = await service.get_silence(session, silence_id=silence_id, principal=principal)
    response.headers["ETag"] = content_etag(silence)
    return silence


@router.delete(
    "/{silence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404),
)
async def delete_silence(silence_id: uuid.UUID, session: SessionDep, actor: Writer) -> Response:
    """Remove a silence."""
    await service.delete_silence(session, silence_id=silence_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
