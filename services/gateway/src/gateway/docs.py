"""`/openapi.json`: the suite's merged document, built from each service's own document."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import structlog
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse

from .openapi_merge import merge_documents
from .proxy import service_for_path
from .settings import Settings

__all__ = ["UpstreamDocuments", "docs_router"]

MERGED_TITLE = "Channel Suite API"
log = structlog.get_logger(__name__)


class UpstreamDocuments:
    """Each service's OpenAPI document, kept for `openapi_cache_seconds`. A failed fetch is not
    kept: that service is missing from the merged document until a later fetch succeeds."""

    def __init__(self, settings: Settings) -> None:
        self._urls = settings.upstream_urls
        self._ttl = settings.openapi_cache_seconds
        self._timeout = settings.upstream_probe_timeout_seconds
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = asyncio.Lock()

    async def fetch(self, client: httpx.AsyncClient) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """The documents by service, and the services whose document could not be had."""
        async with self._lock:  # one refresh at a time; waiting callers then find it cached
            now = time.monotonic()
            stale = [s for s in self._urls if s not in self._cache or self._cache[s][0] <= now]
            fetched = await asyncio.gather(*(self._fetch_one(client, s) for s in stale))
            for service, document in zip(stale, fetched, strict=True):
                if document is None:
                    self._cache.pop(service, None)
                else:
                    self._cache[service] = (now + self._ttl, document)
            documents = {s: entry[1] for s, entry in self._cache.items()}
        return documents, [s for s in self._urls if s not in documents]

    async def _fetch_one(self, client: httpx.AsyncClient, service: str) -> dict[str, Any] | None:
        try:
            url = f"{self._urls[service]}/openapi.json"
            response = await client.get(url, timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("upstream_openapi_unavailable", service=service, error=repr(exc))
            return None
        if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
            log.warning("upstream_openapi_invalid", service=service)
            return None
        return document


docs_router = APIRouter()


@docs_router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    """The merged OpenAPI document: the gateway's own paths and every reachable service's."""
    documents: UpstreamDocuments = request.app.state.upstream_documents
    upstreams, unavailable = await documents.fetch(request.app.state.upstream_client)
    merged = merge_documents(
        request.app.openapi(),
        upstreams,
        routes_to=lambda service, path: service_for_path(path) == service,
        unavailable=unavailable,
        title=MERGED_TITLE,
    )
    return JSONResponse(merged)


@docs_router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    """Swagger UI over the merged document."""
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{MERGED_TITLE} — docs")


@docs_router.get("/docs/oauth2-redirect", include_in_schema=False)
async def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page."""
    return get_swagger_ui_oauth2_redirect_html()
