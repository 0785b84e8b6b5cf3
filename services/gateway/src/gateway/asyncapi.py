"""`/asyncapi.json`: the AsyncAPI 3.0 document of every event subject of the suite.

`make contracts` generates the document from the services' code (scripts/asyncapi_document.py)
and writes a copy into this package, so the gateway serves it without importing any service.
"""

from __future__ import annotations

import json
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

__all__ = ["ASYNCAPI_RESOURCE", "asyncapi_router", "load_asyncapi_document"]

ASYNCAPI_RESOURCE = "asyncapi.json"


def load_asyncapi_document() -> bytes:
    """The packaged document, as served; RuntimeError when it is missing or not AsyncAPI."""
    resource = resources.files(__package__ or "gateway").joinpath(ASYNCAPI_RESOURCE)
    try:
        content = resource.read_bytes()
        document = json.loads(content)
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"gateway/{ASYNCAPI_RESOURCE}: {exc}; run `make contracts`") from exc
    if not isinstance(document, dict) or "asyncapi" not in document:
        raise RuntimeError(f"gateway/{ASYNCAPI_RESOURCE} is not an AsyncAPI document")
    return content


asyncapi_router = APIRouter()


@asyncapi_router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi_document(request: Request) -> Response:
    """The AsyncAPI document: channels, operations and messages of every subject."""
    content: bytes = request.app.state.asyncapi_document
    return Response(content, media_type="application/json")
