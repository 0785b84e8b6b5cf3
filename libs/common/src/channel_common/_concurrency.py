"""Optimistic concurrency over HTTP: `ETag` from a row version or the content, `If-Match`
checked (412)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic_core import to_jsonable_python

from ._errors import PreconditionFailedError

__all__ = ["check_if_match", "content_etag", "etag_for"]


def etag_for(version: int) -> str:
    """The strong ETag of a resource at `version`."""
    return f'"{version}"'


def content_etag(content: Any) -> str:
    """A strong ETag over a representation (a model, or a list of them), for resources with no
    version of their own: it changes exactly when what a client sees changes."""
    canonical = json.dumps(to_jsonable_python(content), sort_keys=True, separators=(",", ":"))
    return f'"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"'


def check_if_match(
    if_match: str | None, *, version: int | None = None, etag: str | None = None
) -> None:
    """412 unless `If-Match` is absent, `*`, or names the current ETag (given, or of `version`)."""
    if if_match is None:
        return
    current = etag if etag is not None else etag_for(version or 0)
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or current in candidates:
        return
    raise PreconditionFailedError(
        f"The resource has changed (current ETag {current}); reload and retry."
    )
