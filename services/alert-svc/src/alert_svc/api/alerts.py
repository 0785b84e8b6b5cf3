"""Routes of alerts: list, read, acknowledge."""

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
from fastapi import APIRouter, Body, Depends, Query, Response

from .. import service
from ..repo import AlertFilters
from ..schemas import AckRequest, AlertRead, AlertState, Severity
from .deps import Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], route_class=ServiceRoute)


def alert_filters(
    state: Annotated[AlertState | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    partner_id: Annotated[uuid.UUID | None, Query()] = None,
    rule_id: Annotated[uuid.UUID | None, Query()] = None,
) -> AlertFilters:
    """The filters of the alert list."""
    return AlertFilters(state=state, severity=severity, partner_id=partner_id, rule_id=rule_id)


@router.get("", response_model=Page[AlertRead], responses=problem_responses(401, 403, 404, 422))
async def list_alerts(
    session: SessionDep,
    principal: Reader,
    filters: Annotated[AlertFilters, Depends(alert_filters)],
    params: Annotated[PageParams, Depends()],
) -> Page[AlertRead]:
    """List alerts, newest first, filtered by state, severity, partner or rule."""
    return await service.list_alerts(session, filters=filters, params=params, principal=principal)


@router.get("/{alert_id}", response_model=AlertRead, responses=problem_responses(401, 403, 404))
async def get_alert(
    alert_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> AlertRead:
    """One alert."""
    alert = await service.get_alert(session, alert_id=alert_id, principal=principal)
    response.headers["ETag"] = content_etag(alert)
    return alert


@router.post(
    "/{alert_id}/ack",
    response_model=AlertRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def acknowledge_alert(
    alert_id: uuid.UUID,
    session: SessionDep,
    actor: Writer,
    response: Response,
    data: Annotated[AckRequest | None, Body()] = None,
) -> AlertRead:
    """Acknowledge a firing alert (the body with a note is optional)."""
    alert = await service.acknowledge_alert(
        session, alert_id=alert_id, data=data or AckRequest(), actor=actor
    )
    response.headers["ETag"] = content_etag(alert)
    return alert
