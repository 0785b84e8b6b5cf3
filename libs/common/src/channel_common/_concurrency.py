"""Optimistic concurrency over HTTP: `ETag` from a row version, `If-Match` checked (412)."""

from __future__ import annotations

from ._errors import PreconditionFailedError

__all__ = ["check_if_match", "etag_for"]


def etag_for(version: int) -> str:
    """The strong ETag of a resource at `version`."""
    return f'"{version}"'


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
