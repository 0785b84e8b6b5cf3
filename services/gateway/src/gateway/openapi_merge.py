"""Merging the services' OpenAPI documents into the gateway's one document.

Schemas that are the same in two documents collapse into one; a different schema under a taken
name gets the service's prefix (`Page` of partner-svc → `PartnerPage`), and every `$ref` in that
service's part follows the rename. Proxied operations gain the gateway's own failures: 429, 502
and 504.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from channel_common import PROBLEM_CONTENT_TYPE

__all__ = ["BEARER_SCHEME", "merge_documents", "plan_renames", "rewrite_refs"]

BEARER_SCHEME = "HTTPBearer"
_SCHEMA_REF = "#/components/schemas/"
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key (`csk_…`) or a JWT.",
}
_GATEWAY_FAILURES = {
    "429": "Rate limited; see Retry-After",
    "502": "The service behind the gateway cannot be reached",
    "504": "The service behind the gateway did not answer in time",
}


def rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    """A copy of `node` whose schema references follow `renames` (old name → new name)."""
    if isinstance(node, dict):
        return {key: rewrite_refs(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [rewrite_refs(value, renames) for value in node]
    if isinstance(node, str) and node.startswith(_SCHEMA_REF):
        name = node[len(_SCHEMA_REF) :]
        return _SCHEMA_REF + renames.get(name, name)
    return node


def plan_renames(
    existing: Mapping[str, Any], incoming: Mapping[str, Any], prefix: str
) -> dict[str, str]:
    """Which incoming schemas must be renamed so that none replaces a different existing one.

    A schema equal to the existing one of its name collapses into it, unless it refers to a
    schema that had to be renamed: then it differs too, so this repeats until nothing changes.
    """
    renames: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name, schema in incoming.items():
            if name in renames or name not in existing:
                continue
            if rewrite_refs(schema, renames) != existing[name]:
                renames[name] = _free_name(prefix + name, existing, incoming, renames)
                changed = True
    return renames


def _free_name(
    wanted: str, existing: Mapping[str, Any], incoming: Mapping[str, Any], taken: Mapping[str, str]
) -> str:
    candidate, n = wanted, 1
    while candidate in existing or candidate in incoming or candidate in taken.values():
        n += 1
        candidate = f"{wanted}{n}"
    return candidate


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _SCHEMA_REF + "Problem"}}},
    }


def _operations(paths: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in paths.values()
        for method, operation in item.items()
        if method in _OPERATIONS and isinstance(operation, dict)
    ]


def _adapt(operation: dict[str, Any], statuses: Sequence[str]) -> None:
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(status, _problem(_GATEWAY_FAILURES[status]))
    if "429" in statuses:
        responses["429"].setdefault("headers", {})["Retry-After"] = {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "minimum": 1},
        }
    if operation.get("security"):
        operation["security"] = [{BEARER_SCHEME: []}]


def merge_documents(
    own: Mapping[str, Any],
    upstreams: Mapping[str, Mapping[str, Any]],
    *,
    routes_to: Callable[[str, str], bool] = lambda _service, _path: True,
    unavailable: Sequence[str] = (),
    title: str | None = None,
) -> dict[str, Any]:
    """One document: the gateway's `own` paths, then each service's (by name order).

    Only paths `routes_to(service, path)` accepts are taken; a path already present keeps its
    first owner. Services in `unavailable` are listed under `x-unavailable-services`.
    """
    merged: dict[str, Any] = copy.deepcopy(dict(own))
    if title is not None:
        merged.setdefault("info", {})["title"] = title
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    components["securitySchemes"] = {BEARER_SCHEME: _BEARER}
    for operation in _operations(paths):
        _adapt(operation, ["429"])
    tags: dict[str, Any] = {tag["name"]: tag for tag in merged.get("tags", [])}
    operation_ids = {op["operationId"] for op in _operations(paths) if "operationId" in op}
    for service in sorted(upstreams):
        document = upstreams[service]
        incoming = document.get("components", {}).get("schemas", {})
        renames = plan_renames(schemas, incoming, service.capitalize())
        for name, schema in rewrite_refs(incoming, renames).items():
            schemas.setdefault(renames.get(name, name), schema)
        for path, item in rewrite_refs(document.get("paths", {}), renames).items():
            if path in paths or not routes_to(service, path):
                continue
            paths[path] = item
            for operation in _operations({path: item}):
                _adapt(operation, list(_GATEWAY_FAILURES))
                if operation.get("operationId") in operation_ids:
                    operation["operationId"] = f"{service}_{operation['operationId']}"
                operation_ids.add(operation.get("operationId", ""))
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    if unavailable:
        merged["x-unavailable-services"] = sorted(unavailable)
    return merged
