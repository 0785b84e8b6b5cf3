"""Routes of webhooks and their delivery log."""

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
from fastapi import APIRouter, Depends, Request, Response, status

from .. import service
from ..schemas import DeliveryRead, WebhookCreate, WebhookCreated, WebhookRead
from .deps import Reader, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=ServiceRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_webhook(
    data: WebhookCreate, session: SessionDep, actor: Writer, request: Request, response: Response
) -> WebhookCreated:
    """Register a webhook; the answer shows its signing secret, once."""
    webhook = await service.create_webhook(
        session,
        data=data,
        actor=actor,
        allow_loopback=request.app.state.settings.allow_loopback_webhooks,
    )
    response.headers["Location"] = f"{router.prefix}/{webhook.id}"
    return webhook


@router.get("", response_model=Page[WebhookRead], responses=problem_responses(401, 403, 422))
async def list_webhooks(
    session: SessionDep, principal: Reader, params: Annotated[PageParams, Depends()]
) -> Page[WebhookRead]:
    """List webhooks (without secrets)."""
    return await service.list_webhooks(session, params=params, principal=principal)


@router.get("/{webhook_id}", response_model=WebhookRead, responses=problem_responses(401, 403, 404))
async def get_webhook(
    webhook_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> WebhookRead:
    """One webhook (without its secret)."""
    webhook = await service.get_webhook(session, webhook_id=webhook_id, principal=principal)
    response.headers["ETag"] = content_etag(webhook)
    return webhook


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404),
)
async def delete_webhook(webhook_id: uuid.UUID, session: SessionDep, actor: Writer) -> Response:
    """Remove a webhook and its delivery log."""
    await service.delete_webhook(session, webhook_id=webhook_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    params: Annotated[PageParams, Depends()],
) -> Page[DeliveryRead]:
    """The webhook's deliveries, newest first, with every attempt."""
    return await service.list_deliveries(
        session, webhook_id=webhook_id, params=params, principal=principal
    )
