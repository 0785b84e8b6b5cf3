"""Tiny builders of synthetic OpenAPI documents and event schemas for the compat checker's tests
(fresh dicts every call, never shared)."""

from collections.abc import Callable
from typing import Any

Schema = dict[str, Any]


def doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {"title": "test", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def string(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


def json_body(schema: Schema) -> Schema:
    return {"content": {"application/json": {"schema": schema}}}


def get(response: Schema | None = None, *, parameters: list[Schema] | None = None) -> Schema:
    return {
        "parameters": parameters or [],
        "responses": {
            "200": {"description": "OK", **(json_body(response) if response else {})},
            "422": {"description": "Invalid", **json_body(ref("Problem"))},
        },
    }


def post(request: Schema, response: Schema | None = None, *, required: bool = True) -> Schema:
    return {
        "requestBody": {"required": required, **json_body(request)},
        "responses": {"201": {"description": "Created", **json_body(response or obj({}))}},
    }


def query(name: str, *, required: bool = False, **schema: Any) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema or string()}


def problem() -> Schema:
    return obj({"type": string(), "title": string(), "status": {"type": "integer"}})


def partner_api(
    partner: Schema, create: Schema | None = None, contact: Schema | None = None
) -> Schema:
    """A small partner API in the shape FastAPI generates."""
    page = obj({"items": {"type": "array", "items": ref("Partner")}}, ("items",))
    schemas = {"Partner": partner, "Page": page, "Problem": problem()}
    schemas["Contact"] = contact or obj({"name": string(), "email": nullable(string())}, ("name",))
    schemas["PartnerCreate"] = create or obj(
        {"code": string(maxLength=64), "name": string()}, ("code",), additionalProperties=False
    )
    return doc(
        {
            "/api/v1/partners": {
                "get": get(ref("Page"), parameters=[query("status"), query("limit")]),
                "post": post(ref("PartnerCreate"), ref("Partner")),
            },
            "/api/v1/partners/{id}": {"get": get(ref("Partner")), "delete": get()},
        },
        schemas,
    )


def partner(**changes: Any) -> Schema:
    properties: dict[str, Any] = {
        "id": string(format="uuid"),
        "code": string(),
        "tier": string(enum=["platinum", "gold", "silver"]),
        "contact": nullable(ref("Contact")),
    }
    properties.update(changes)
    return obj({k: v for k, v in properties.items() if v is not None}, ("id", "code", "tier"))


def partner_responses(problem: Callable[[str], str]) -> list[str]:
    """``problem`` as reported for each response carrying partners (at: the path prefix)."""
    return [
        f"GET /api/v1/partners: response 200: {problem('items[].')}",
        f"POST /api/v1/partners: response 201: {problem('')}",
        f"GET /api/v1/partners/{{id}}: response 200: {problem('')}",
    ]


def event(properties: dict[str, Any], required: tuple[str, ...] = (), **defs: Any) -> Schema:
    return {"$id": "urn:test", **obj(properties, required), "$defs": defs}


def def_ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}
