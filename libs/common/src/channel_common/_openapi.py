"""OpenAPI post-processing: every error response documented as problem+json, consistently."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ._errors import PROBLEM_CONTENT_TYPE, Problem

__all__ = ["install_openapi"]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing or invalid credentials",
    403: "Missing scope",
    404: "Not found (or not yours)",
    413: "Body too large",
    415: "Unsupported content type",
    422: "Invalid input",
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}}}


def _normalise(path: str, operation: dict[str, Any]) -> None:
    # DESIGN §3: the route's one-line docstring is the operation's summary.
    description = operation.get("description")
    if description:
        operation["summary"] = description.strip().splitlines()[0].strip()
    responses: dict[str, Any] = operation.setdefault("responses", {})
    implied: set[int] = set()
    if operation.get("security"):
        implied |= {401, 403}
    if "requestBody" in operation:
        implied |= {400, 413, 415, 422}
    if "{" in path:
        implied.add(404)
    if operation.get("parameters"):
        implied.add(422)
    for code in implied:
        responses.setdefault(str(code), {"description": _DESCRIPTIONS[code]})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            description = response.get("description") or _DESCRIPTIONS.get(int(status), "Error")
            responses[status] = _problem(description)


def install_openapi(app: FastAPI) -> None:
    """Replace FastAPI's validation-error schemas with problem+json on every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        for path, item in document.get("paths", {}).items():
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    _normalise(path, operation)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
