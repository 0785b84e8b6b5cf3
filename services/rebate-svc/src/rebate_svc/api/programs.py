"""Routes of rebate programs: create, list, read, replace, retire, simulate."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from channel_common import Page, PageParams, ServiceRoute, SessionDep, etag_for, problem_responses
from fastapi import APIRouter, Depends, Query, Response, status

from .. import service
from ..schemas import ProgramCreate, ProgramRead, ProgramUpdate, SimulationRequest, SimulationResult
from .deps import IfMatch, Reader, SettingsDep, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/rebate-programs", tags=["programs"], route_class=ServiceRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgramRead,
    responses=problem_responses(403, 422),
)
async def create_program(
    data: ProgramCreate,
    session: SessionDep,
    actor: Writer,
    settings: SettingsDep,
    response: Response,
) -> ProgramRead:
    """Create a rebate program (version 1)."""
    program = await service.create_program(
        session,
        data=data,
        actor=actor,
        volume_kpis=settings.volume_kpis,
        today=settings.today(),
        event_chunk=settings.accrual_event_chunk,
    )
    response.headers["Location"] = f"{router.prefix}/{program.id}"
    response.headers["ETag"] = etag_for(program.version)
    return program


@router.get("", response_model=Page[ProgramRead], responses=problem_responses(422))
async def list_programs(
    session: SessionDep,
    _: Reader,
    params: Annotated[PageParams, Depends()],
    program_status: Annotated[
        Literal["draft", "active", "retired"] | None, Query(alias="status")
    ] = None,
) -> Page[ProgramRead]:
    """List programs (current versions), optionally by status."""
    return await service.list_programs(session, status=program_status, params=params)


@router.get("/{program_id}", response_model=ProgramRead, responses=problem_responses(404))
async def get_program(
    program_id: uuid.UUID,
    session: SessionDep,
    _: Reader,
    response: Response,
    # Bounded to the column's 32-bit range: a larger number is a 422, not a database error.
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="An earlier version.")
    ] = None,
) -> ProgramRead:
    """One program at its current version (or the `version` asked for)."""
    program = await service.get_program(session, program_id=program_id, version=version)
    response.headers["ETag"] = etag_for(program.version)
    return program


@router.put(
    "/{program_id}",
    response_model=ProgramRead,
    responses=problem_responses(403, 404, 409, 412, 422),
)
async def update_program(
    program_id: uuid.UUID,
    data: ProgramUpdate,
    session: SessionDep,
    actor: Writer,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProgramRead:
    """Replace a program: makes version n+1; statements keep the version they used."""
    program = await service.update_program(
        session,
        program_id=program_id,
        data=data,
        actor=actor,
        if_match=if_match,
        volume_kpis=settings.volume_kpis,
        today=settings.today(),
        event_chunk=settings.accrual_event_chunk,
    )
    response.headers["ETag"] = etag_for(program.version)
    return program


@router.post(
    "/{program_id}/retire",
    response_model=ProgramRead,
    responses=problem_responses(403, 404, 412),
)
async def retire_program(
    program_id: uuid.UUID,
    session: SessionDep,
    actor: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ProgramRead:
    """Retire a program (a new version with status `retired`; no more accruals)."""
    program = await service.retire_program(
        session, program_id=program_id, actor=actor, if_match=if_match
    )
    response.headers["ETag"] = etag_for(program.version)
    return program


@router.post(
    "/{program_id}/simulate",
    response_model=SimulationResult,
    responses=problem_responses(404, 422),
)
async def simulate(
    program_id: uuid.UUID, data: SimulationRequest, session: SessionDep, _: Reader
) -> SimulationResult:
    """What the program would pay on a given basis: amount, lines and the next tier."""
    return await service.simulate(session, program_id=program_id, data=data)
