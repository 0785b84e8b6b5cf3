"""Every operation of an app, read from its routes, so new routes are covered automatically:
method, path template, the scopes it requires and whether it needs a principal at all."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

PUBLIC_PATHS = frozenset({"/livez", "/readyz", "/metrics", "/openapi.json", "/docs"})


@dataclass(frozen=True)
class Operation:
    """One method on one path template."""

    method: str
    path: str
    scopes: frozenset[str]
    protected: bool
    media_type: str | None = None  # the first media type of its documented request body

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def body(self) -> dict[str, Any]:
        """httpx arguments sending an empty body of the documented media type (if any)."""
        if self.media_type is None or self.media_type == "application/json":
            return {"json": {}} if self.method in {"POST", "PUT", "PATCH"} else {}
        return {"content": b"", "headers": {"Content-Type": self.media_type}}

    def url(self, **values: str) -> str:
        """The path with its parameters filled from `values`, else a random UUID each."""
        return re.sub(
            r"{(\w+)(?::\w+)?}", lambda m: values.get(m.group(1), str(uuid.uuid4())), self.path
        )


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _walk(child)


def _required_scopes(dependant: Dependant) -> tuple[frozenset[str], bool]:
    scopes: set[str] = set()
    protected = False
    for node in _walk(dependant):
        call = node.call
        name = getattr(call, "__qualname__", "")
        if name == "_current_principal":
            protected = True
        if name.startswith("require_scopes.") and call is not None:
            cells = [c.cell_contents for c in (getattr(call, "__closure__", None) or ())]
            scopes.update(s for cell in cells if isinstance(cell, tuple) for s in cell)
    return frozenset(scopes), protected


def operations(app: FastAPI) -> list[Operation]:
    """Every API operation of `app` (HEAD and OPTIONS left out)."""
    found: list[Operation] = []
    paths = app.openapi().get("paths", {})
    # FastAPI 0.16x keeps included routers as branches; the route contexts are the flat view.
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or context.path is None:
            continue
        scopes, protected = _required_scopes(context.dependant)
        for method in sorted((context.methods or set()) - {"HEAD", "OPTIONS"}):
            documented = paths.get(context.path, {}).get(method.lower(), {})
            media = next(iter(documented.get("requestBody", {}).get("content", {})), None)
            found.append(Operation(method, context.path, scopes, protected, media))
    return found
