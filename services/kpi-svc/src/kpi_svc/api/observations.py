"""Routes of observation ingestion (JSON batches, streamed CSV/NDJSON files) and raw reads."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import (
    IsoDate,
    Page,
    PageParams,
    ServiceRoute,
    SessionDep,
    problem_responses,
)
from fastapi import APIRouter, Depends, Query, Request

from .. import service
from ..importing import CSV, NDJSON, numbered_lines
from ..schemas import IngestResult, ObservationBatch, ObservationRead
from ..service.imports import import_observations as run_import
from .deps import ImportRoute, Reader, SettingsDep, UnsupportedMediaTypeError, Writer

__all__ = ["IMPORT_PATH", "IMPORT_TYPES", "import_router", "router"]

IMPORT_PATH = "/api/v1/observations:import"
IMPORT_TYPES = frozenset({CSV, NDJSON})
router = APIRouter(prefix="/api/v1/observations", tags=["observations"], route_class=ServiceRoute)
import_router = APIRouter(tags=["observations"], route_class=ImportRoute)


@router.post("", responses=problem_responses(422))
async def ingest_observations(
    data: ObservationBatch, session: SessionDep, principal: Writer, settings: SettingsDep
) -> IngestResult:
    """Ingest 1 to 10,000 observations; each item is accepted, a duplicate, or rejected."""
    outcome = service.IngestOutcome(batch_id=uuid.uuid4())
    await service.ingest_observations(
        session,
        items=data.observations,
        outcome=outcome,
        channel="http",
        bound_partner=principal.partner_id,
        max_event_bytes=settings.event_max_bytes,
    )
    return outcome.result()


@import_router.post(
    IMPORT_PATH,
    responses=problem_responses(409, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "CSV with a header row (partner_id, kpi, value, occurred_on; "
            "optional id, region, source) or NDJSON (one observation object per line).",
            "content": {
                CSV: {"schema": {"type": "string"}},
                NDJSON: {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_observations(
    request: Request, session: SessionDep, principal: Writer, settings: SettingsDep
) -> IngestResult:
    """Import a CSV or NDJSON file, streamed; rejections name 1-based line numbers.

    Takes `Idempotency-Key`: the same key and file answer the stored result again."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in IMPORT_TYPES:
        raise UnsupportedMediaTypeError(f"Content-Type must be one of: {CSV}, {NDJSON}.")
    outcome = await run_import(
        session,
        lines=numbered_lines(request.stream(), max_line_bytes=settings.import_max_line_bytes),
        media_type=media_type,
        bound_partner=principal.partner_id,
        chunk_lines=settings.import_chunk_lines,
        max_line_bytes=settings.import_max_line_bytes,
        max_event_bytes=settings.event_max_bytes,
        max_listed=settings.import_max_listed_rejections,
    )
    return outcome.result()


@router.get("", responses=problem_responses(404, 422))
async def list_observations(
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends()],
    partner_id: uuid.UUID | None = None,
    kpi: Annotated[str | None, Query(max_length=64)] = None,
    first: Annotated[IsoDate | None, Query(alias="from", description="First day.")] = None,
    last: Annotated[IsoDate | None, Query(alias="to", description="Last day.")] = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    batch_id: uuid.UUID | None = None,
) -> Page[ObservationRead]:
    """List raw observations by date, filtered (a partner sees only its own)."""
    return await service.list_observations(
        session,
        principal=principal,
        partner_id=partner_id,
        kpi=kpi,
        first=first,
        last=last,
        source=source,
        batch_id=batch_id,
        params=page,
    )
