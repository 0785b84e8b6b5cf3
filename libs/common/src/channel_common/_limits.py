"""Request guards applied before routing: body size (413) and content type (415)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import problem_response

__all__ = ["RequestGuardMiddleware"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_TYPES = frozenset({"application/json"})


class RequestGuardMiddleware:
    """Refuse bodies over `max_body_bytes` (413) and bodies that are not JSON (415).

    `streamed_paths` maps a path to the media types it takes and its own byte limit
    (None = unlimited, for streamed imports).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        streamed_paths: Mapping[str, tuple[frozenset[str], int | None]] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.streamed_paths = dict(streamed_paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length, content_type, chunked = _body_headers(scope)
        types, limit = self.streamed_paths.get(scope["path"], (_JSON_TYPES, self.max_body_bytes))
        has_body = length not in (None, "0") or chunked
        media_type = content_type.split(";")[0].strip().lower()
        if has_body and not _accepts(types, media_type):
            wanted = ", ".join(sorted(types))
            response = problem_response(415, f"Content-Type must be one of: {wanted}.")
            await response(scope, receive, send)
            return
        if limit is not None and length is not None and length.isdigit() and int(length) > limit:
            await self._too_large(limit, scope, receive, send)
            return
        if limit is None:
            await self.app(scope, receive, send)
            return
        await self._counted(limit, scope, receive, send)

    async def _counted(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes through FastAPI's body parsing to the 413 handler.
                    raise HTTPException(413, f"The request body exceeds {limit} bytes.")
            return message

        await self.app(scope, counting_receive, send)

    @staticmethod
    async def _too_large(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, f"The request body exceeds {limit} bytes.")
        await response(scope, receive, send)


def _body_headers(scope: Scope) -> tuple[str | None, str, bool]:
    """`Content-Length` (None when absent), `Content-Type` ("" when absent) and whether a
    `Transfer-Encoding` is given; the last of repeated headers counts."""
    length, content_type, chunked = None, "", False
    for key, value in scope["headers"]:
        if key == b"content-length":
            length = value.decode("latin-1")
        elif key == b"content-type":
            content_type = value.decode("latin-1")
        elif key == b"transfer-encoding":
            chunked = True
    return length, content_type, chunked


def _accepts(types: frozenset[str], media_type: str) -> bool:
    if media_type in types:
        return True
    return (
        "application/json" in types
        and media_type.startswith("application/")
        and (media_type.endswith("+json"))
    )
