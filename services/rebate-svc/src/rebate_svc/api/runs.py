"""Routes of rebate runs."""

from __future__ import annotations

import uuid

from channel_common import ServiceRoute, SessionDep, content_etag, problem_responses
from fastapi import APIRouter, Response, status

from .. import service
from ..schemas import RunAccepted, RunCreate, RunRead
from .deps import Reader, SettingsDep, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/rebate-runs", tags=["runs"], route_class=ServiceRoute)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunAccepted,
    responses=problem_responses(403, 404, 409, 422),
)
async def create_run(
    data: RunCreate, session: SessionDep, actor: Writer, settings: SettingsDep, response: Response
) -> RunAccepted:
    """Compute a program period's statements (recomputes drafts; adjusts approved ones)."""
    run = await service.create_run(
        session, data=data, actor=actor, volume_kpis=settings.volume_kpis
    )
    response.headers["Location"] = f"{router.prefix}/{run.id}"
    return RunAccepted(id=run.id, status=run.status)


@router.get("/{run_id}", response_model=RunRead, responses=problem_responses(404))
async def get_run(
    run_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> RunRead:
    """A run: its status, the statements it set and their total."""
    run = await service.get_run(session, run_id=run_id, principal=principal)
    response.headers["ETag"] = content_etag(run)
    return run
