"""gateway application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from channel_common import create_service_app
from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import IntegrityError
from starlette.middleware import Middleware

from . import service
from .api import router as api_router
from .asyncapi import asyncapi_router, load_asyncapi_document
from .auth import GatewayAuthMiddleware
from .docs import UpstreamDocuments, docs_router
from .keycache import ApiKeyCache
from .proxy import ProxyMiddleware, create_upstream_client, upstreams_ready
from .ratelimit import RateLimiter
from .settings import Settings
from .tokens import TokenMinter
from .upstream import UpstreamPool

__all__ = ["create_app"]

# Bulk imports stream through at any size; kpi-svc enforces its own limit.
STREAMED_PATHS = {
    "/api/v1/observations:import": (frozenset({"text/csv", "application/x-ndjson"}), None),
}


@contextlib.asynccontextmanager
async def _gateway_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The upstream client and the bootstrap admin key; runs inside the service lifespan."""
    settings: Settings = app.state.settings
    if settings.bootstrap_admin_key is not None:
        async with app.state.sessions() as session:
            secret = settings.bootstrap_admin_key.get_secret_value()
            try:
                if await service.ensure_bootstrap_key(session, secret=secret):
                    await session.commit()
            except IntegrityError:  # another replica inserted it first
                await session.rollback()
    upstream: UpstreamPool = app.state.upstream_pool
    upstream.open()
    async with create_upstream_client(settings) as client:
        app.state.upstream_client = client
        try:
            yield
        finally:
            await upstream.aclose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway app (settings from the environment when not given)."""
    settings = settings or Settings()
    minter = TokenMinter(settings)
    limiter = RateLimiter(rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst)
    keys = ApiKeyCache(ttl=settings.key_cache_seconds)
    upstream = UpstreamPool(settings)
    app: FastAPI = create_service_app(
        settings,
        title="Channel Suite gateway",
        description=(
            "The one entrance to Channel Suite: authenticates API keys and JWTs, routes "
            "/api/v1 paths to the services, limits the rate per principal and serves the "
            "merged OpenAPI document. Its own API manages API keys."
        ),
        routers=[
            # FastAPI runs an included router's lifespan inside the app's, after the database
            # and the other infrastructure are up, and closes it first.
            APIRouter(lifespan=_gateway_lifespan),
            docs_router,
            asyncapi_router,
            api_router,
        ],
        streamed_paths=STREAMED_PATHS,
        openapi_tags=[{"name": "api-keys", "description": "API keys for systems and portals."}],
        # Innermost: after the request id, trace context and body guards, before routing; the
        # proxied prefixes never reach the router.
        middleware=[
            Middleware(GatewayAuthMiddleware, minter=minter, limiter=limiter, keys=keys),
            Middleware(ProxyMiddleware, settings=settings, upstream=upstream),
        ],
        # The gateway publishes no events: readiness is its database and the services behind it.
        messaging=False,
        # docs_router serves the merged document and Swagger UI; app.openapi() stays its own.
        serve_openapi=False,
    )
    app.state.token_minter = minter
    app.state.api_key_cache = keys
    app.state.upstream_pool = upstream
    app.state.upstream_documents = UpstreamDocuments(settings)
    app.state.asyncapi_document = load_asyncapi_document()
    app.state.readiness_checks["upstreams"] = upstreams_ready
    return app
