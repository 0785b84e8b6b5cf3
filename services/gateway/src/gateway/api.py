"""The gateway's own routes: API keys (scope `admin`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import (
    Page,
    PageParams,
    Principal,
    ServiceRoute,
    SessionDep,
    content_etag,
    problem_responses,
    require_scopes,
)
from fastapi import APIRouter, Depends, Request, Response
from starlette.background import BackgroundTask

from . import service
from .keycache import ApiKeyCache
from .schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from .tokens import TokenMinter

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"], route_class=ServiceRoute)
Admin = Annotated[Principal, Depends(require_scopes("admin"))]


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_api_key(
    data: ApiKeyCreate, session: SessionDep, actor: Admin, response: Response
) -> ApiKeyCreated:
    """Create an API key; its secret `key` is shown in this answer only."""
    created = await service.create_api_key(session, data=data, actor=actor)
    response.headers["Location"] = f"{router.prefix}/{created.api_key.id}"
    read = ApiKeyRead.model_validate(created.api_key)
    # The tag of the key as GET shows it, so that both agree; the secret is not part of it.
    response.headers["ETag"] = content_etag(read)
    return ApiKeyCreated(**read.model_dump(), key=created.secret)


@router.get("", response_model=Page[ApiKeyRead], responses=problem_responses(401, 403, 422))
async def list_api_keys(
    session: SessionDep, _actor: Admin, params: Annotated[PageParams, Depends()]
) -> Page[ApiKeyRead]:
    """List API keys, oldest first, revoked ones included (never their secrets)."""
    return await service.list_api_keys(session, params=params)


@router.get("/{key_id}", response_model=ApiKeyRead, responses=problem_responses(401, 403, 404))
async def get_api_key(
    key_id: uuid.UUID, session: SessionDep, _actor: Admin, response: Response
) -> ApiKeyRead:
    """One API key (never its secret)."""
    read = ApiKeyRead.model_validate(await service.get_api_key(session, key_id=key_id))
    response.headers["ETag"] = content_etag(read)
    return read


@router.delete("/{key_id}", status_code=204, responses=problem_responses(401, 403, 404))
async def revoke_api_key(
    key_id: uuid.UUID, session: SessionDep, actor: Admin, request: Request
) -> Response:
    """Revoke an API key: from now on it is refused with 401."""
    tokens: TokenMinter = request.app.state.token_minter
    keys: ApiKeyCache = request.app.state.api_key_cache
    api_key = await service.revoke_api_key(
        session, key_id=key_id, actor=actor, tokens=tokens, keys=keys
    )
    # No body, but the key lives on (revoked): its new tag spares the caller a GET. Once the
    # revocation is committed (before the answer leaves), the key is dropped from the cache
    # again, lest a lookup that raced the commit kept it.
    etag = content_etag(ApiKeyRead.model_validate(api_key))
    return Response(
        status_code=204, headers={"ETag": etag}, background=BackgroundTask(keys.revoke, key_id)
    )
