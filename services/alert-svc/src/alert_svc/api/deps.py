"""Dependencies shared by the routers: principals by scope and the `If-Match` header."""

from __future__ import annotations

from typing import Annotated

from channel_common import Principal, require_scopes
from fastapi import Depends, Header

__all__ = ["IfMatch", "Reader", "Writer"]

Reader = Annotated[Principal, Depends(require_scopes("alerts:read"))]
Writer = Annotated[Principal, Depends(require_scopes("alerts:write"))]
IfMatch = Annotated[
    str | None, Header(description="The ETag you read; a stale one is refused with 412.")
]
