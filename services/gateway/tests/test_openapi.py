"""The merged OpenAPI document: merge rules (unit) and `/openapi.json` over real services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from channel_common.testing import app_client, free_port
from gateway.app import create_app
from gateway.openapi_merge import merge_documents, plan_renames, rewrite_refs
from gateway.settings import Settings


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def document(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def get(schema: str, *, secured: bool = True) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": "list",
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": ref(schema)}}}
        },
    }
    if secured:
        operation["security"] = [{"HTTPBearer": []}]
    return {"get": operation}


PROBLEM = {"type": "object", "properties": {"status": {"type": "integer"}}}
OWN = document({"/api/v1/api-keys": get("Problem")}, {"Problem": PROBLEM})


class TestSchemaCollisions:
    def test_identical_schemas_collapse(self) -> None:
        partner = document({"/api/v1/partners": get("Problem")}, {"Problem": dict(PROBLEM)})

        merged = merge_documents(OWN, {"partner": partner})

        assert list(merged["components"]["schemas"]) == ["Problem"]
        assert merged["paths"]["/api/v1/partners"]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"] == ref("Problem")

    def test_different_schemas_with_one_name_get_the_service_prefix(self) -> None:
        partner_page = {"type": "object", "properties": {"items": {"type": "array"}}}
        kpi_page = {"type": "object", "properties": {"rows": {"type": "array"}}}
        partner = document({"/api/v1/partners": get("Page")}, {"Page": partner_page})
        kpi = document({"/api/v1/kpis": get("Page")}, {"Page": kpi_page})

        merged = merge_documents(OWN, {"partner": partner, "kpi": kpi})

        schemas = merged["components"]["schemas"]
        assert schemas["Page"] == kpi_page  # kpi comes first by name and keeps it
        assert schemas["PartnerPage"] == partner_page
        response = merged["paths"]["/api/v1/partners"]["get"]["responses"]["200"]
        assert response["content"]["application/json"]["schema"] == ref("PartnerPage")
        kpi_response = merged["paths"]["/api/v1/kpis"]["get"]["responses"]["200"]
        assert kpi_response["content"]["application/json"]["schema"] == ref("Page")

    def test_a_schema_referring_to_a_renamed_one_is_renamed_too(self) -> None:
        existing = {"Item": {"type": "string"}, "List": {"items": ref("Item")}}
        incoming = {"Item": {"type": "integer"}, "List": {"items": ref("Item")}}

        renames = plan_renames(existing, incoming, "Kpi")

        assert renames == {"Item": "KpiItem", "List": "KpiList"}
        assert rewrite_refs(incoming["List"], renames) == {"items": ref("KpiItem")}

    def test_a_prefixed_name_that_is_taken_gets_a_number(self) -> None:
        existing = {"Page": {"type": "string"}, "KpiPage": {"type": "boolean"}}

        assert plan_renames(existing, {"Page": {"type": "integer"}}, "Kpi") == {"Page": "KpiPage2"}

    def test_refs_are_rewritten_everywhere_in_that_services_part_only(self) -> None:
        alert = document(
            {"/api/v1/alerts": get("Page")},
            {
                "Page": {"type": "integer"},
                "Wrapper": {
                    "oneOf": [ref("Page")],
                    "discriminator": {"mapping": {"p": "#/components/schemas/Page"}},
                },
            },
        )
        own = document({"/api/v1/api-keys": get("Page")}, {"Page": {"type": "string"}})

        merged = merge_documents(own, {"alert": alert})

        schemas = merged["components"]["schemas"]
        assert schemas["Wrapper"]["oneOf"] == [ref("AlertPage")]
        assert (
            schemas["Wrapper"]["discriminator"]["mapping"]["p"] == "#/components/schemas/AlertPage"
        )
        own_schema = merged["paths"]["/api/v1/api-keys"]["get"]["responses"]["200"]["content"]
        assert own_schema["application/json"]["schema"] == ref("Page")


class TestMergedPaths:
    def test_proxied_operations_document_gateway_failures(self) -> None:
        partner = document({"/api/v1/partners": get("Problem")}, {})

        merged = merge_documents(OWN, {"partner": partner})

        proxied = merged["paths"]["/api/v1/partners"]["get"]["responses"]
        own = merged["paths"]["/api/v1/api-keys"]["get"]["responses"]
        assert {"429", "502", "504"} <= set(proxied)
        assert "429" in own
        assert "502" not in own
        assert proxied["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
        assert proxied["504"]["content"]["application/problem+json"]["schema"] == ref("Problem")

    def test_only_paths_the_gateway_routes_to_the_service_are_taken(self) -> None:
        partner = document({"/api/v1/partners": get("Problem"), "/internal": get("Problem")}, {})

        merged = merge_documents(
            OWN, {"partner": partner}, routes_to=lambda _s, path: path.startswith("/api/v1/")
        )

        assert "/internal" not in merged["paths"]

    def test_one_bearer_scheme_and_unique_operation_ids(self) -> None:
        partner = document({"/api/v1/partners": get("Problem")}, {})
        partner["components"]["securitySchemes"] = {"PartnerBearer": {"type": "http"}}
        kpi = document({"/api/v1/kpis": get("Problem")}, {})

        merged = merge_documents(OWN, {"partner": partner, "kpi": kpi})

        assert list(merged["components"]["securitySchemes"]) == ["HTTPBearer"]
        ids = [item["get"]["operationId"] for item in merged["paths"].values()]
        assert len(ids) == len(set(ids)) == 3

    def test_unavailable_services_are_listed(self) -> None:
        merged = merge_documents(OWN, {}, unavailable=["rebate", "alert"])

        assert merged["x-unavailable-services"] == ["alert", "rebate"]

    def test_the_inputs_are_left_untouched(self) -> None:
        partner = document({"/api/v1/partners": get("Problem")}, {"Problem": {"type": "string"}})
        before = repr(partner), repr(OWN)

        merge_documents(OWN, {"partner": partner})

        assert (repr(partner), repr(OWN)) == before


class TestOpenApiEndpoint:
    async def test_serves_every_service_and_the_gateway_without_credentials(
        self, gateway: httpx.AsyncClient, upstreams: Any
    ) -> None:
        response = await gateway.get("/openapi.json")

        assert response.status_code == 200
        merged = response.json()
        assert merged["info"]["title"] == "Channel Suite API"
        for path in (
            "/api/v1/api-keys",
            "/api/v1/api-keys/{key_id}",
            "/api/v1/partners",
            "/api/v1/kpis/{kpi}/series",
            "/api/v1/rebate-programs",
            "/api/v1/alerts",
        ):
            assert path in merged["paths"], path
        assert "/internal/debug" not in merged["paths"]
        assert "x-unavailable-services" not in merged
        schemas = merged["components"]["schemas"]
        # alert's Page came first (by name); the others differ, so they carry their prefix.
        assert schemas["Page"]["properties"]["items"]["items"] == {
            "$ref": "#/components/schemas/AlertRead"
        }
        assert schemas["KpiPage"]["properties"]["items"]["items"] == {
            "$ref": "#/components/schemas/KpiRead"
        }
        series = merged["paths"]["/api/v1/kpis/{kpi}/series"]["get"]["responses"]["200"]
        assert series["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/KpiPage"
        }
        assert "PartnerProblem" not in schemas
        assert "Problem" in schemas
        assert merged["paths"]["/api/v1/alerts"]["get"]["responses"]["502"]

    async def test_a_service_that_is_down_is_missing_and_named(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(rebate_url=f"http://127.0.0.1:{free_port()}")
        async with app_client(create_app(settings)) as client:
            merged = (await client.get("/openapi.json")).json()

        assert merged["x-unavailable-services"] == ["rebate"]
        assert "/api/v1/rebate-programs" not in merged["paths"]
        assert "/api/v1/partners" in merged["paths"]

    async def test_documents_are_cached(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(openapi_cache_seconds=300)
        async with app_client(create_app(settings)) as client:
            first = (await client.get("/openapi.json")).json()
            second = (await client.get("/openapi.json")).json()

        assert first == second
        assert [server.document_fetches for server in upstreams.values()] == [1, 1, 1, 1]

    async def test_a_failed_fetch_is_retried_on_the_next_request(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(openapi_cache_seconds=300)
        upstreams["alert"].documented = False
        async with app_client(create_app(settings)) as client:
            first = (await client.get("/openapi.json")).json()
            upstreams["alert"].documented = True
            second = (await client.get("/openapi.json")).json()

        assert first["x-unavailable-services"] == ["alert"]
        assert "x-unavailable-services" not in second
        assert "/api/v1/alerts" in second["paths"]
        assert upstreams["alert"].document_fetches == 2
        assert upstreams["partner"].document_fetches == 1

    def test_the_apps_own_document_has_only_the_gateways_routes(self, settings: Settings) -> None:
        own = create_app(settings).openapi()

        assert set(own["paths"]) == {"/api/v1/api-keys", "/api/v1/api-keys/{key_id}"}
        assert own["info"]["title"] == "Channel Suite gateway"
        assert own["paths"]["/api/v1/api-keys"]["post"]["responses"]["201"]

    async def test_docs_page_points_at_the_merged_document(
        self, gateway: httpx.AsyncClient
    ) -> None:
        page = await gateway.get("/docs")

        assert page.status_code == 200
        assert "/openapi.json" in page.text
