"""The backward-compatibility checker (tests/contract/openapi_compat.py) on OpenAPI documents."""

from typing import Any, Literal

from compat_builders import (
    Schema,
    doc,
    get,
    nullable,
    obj,
    partner,
    partner_api,
    partner_responses,
    post,
    query,
    ref,
    string,
)
from fastapi import FastAPI, Query
from openapi_compat import find_breaking_changes
from pydantic import BaseModel, ConfigDict


class TestFindBreakingChanges:
    def test_accepts_an_unchanged_document(self) -> None:
        assert find_breaking_changes(partner_api(partner()), partner_api(partner())) == []

    def test_reports_removed_path(self) -> None:
        new = partner_api(partner())
        del new["paths"]["/api/v1/partners/{id}"]

        assert find_breaking_changes(partner_api(partner()), new) == [
            "GET /api/v1/partners/{id}: path removed",
            "DELETE /api/v1/partners/{id}: path removed",
        ]

    def test_reports_removed_operation(self) -> None:
        new = partner_api(partner())
        del new["paths"]["/api/v1/partners/{id}"]["delete"]

        assert find_breaking_changes(partner_api(partner()), new) == [
            "DELETE /api/v1/partners/{id}: operation removed"
        ]

    def test_accepts_added_path(self) -> None:
        new = partner_api(partner())
        new["paths"]["/api/v1/tiers"] = {"get": get(obj({"items": {"type": "array"}}))}
        new["paths"]["/api/v1/partners/{id}"]["patch"] = post(obj({}))

        assert find_breaking_changes(partner_api(partner()), new) == []

    def test_matches_paths_whatever_their_parameters_are_called(self) -> None:
        new = partner_api(partner())
        new["paths"]["/api/v1/partners/{partner_id}"] = new["paths"].pop("/api/v1/partners/{id}")

        assert find_breaking_changes(partner_api(partner()), new) == []

    def test_reports_removed_success_response(self) -> None:
        old, new = partner_api(partner()), partner_api(partner())
        responses = new["paths"]["/api/v1/partners"]["post"]["responses"]
        responses["202"] = responses.pop("201")

        assert find_breaking_changes(old, new) == ["POST /api/v1/partners: response 201 removed"]

    def test_accepts_removed_error_response(self) -> None:
        new = partner_api(partner())
        del new["paths"]["/api/v1/partners/{id}"]["get"]["responses"]["422"]

        assert find_breaking_changes(partner_api(partner()), new) == []

    def test_reports_removed_response_field_behind_ref(self) -> None:
        contact = obj({"name": string()}, ("name",))  # "email" removed

        found = find_breaking_changes(partner_api(partner()), partner_api(partner(), None, contact))

        assert found == [
            "GET /api/v1/partners: response 200: property 'items[].contact.email' removed",
            "POST /api/v1/partners: response 201: property 'contact.email' removed",
            "GET /api/v1/partners/{id}: response 200: property 'contact.email' removed",
        ]

    def test_reports_response_field_no_longer_required(self) -> None:
        new_partner = partner()
        new_partner["required"].remove("tier")

        found = find_breaking_changes(partner_api(partner()), partner_api(new_partner))

        assert found == partner_responses(
            lambda at: f"property '{at}tier' no longer required (may be absent)"
        )

    def test_reports_response_field_becoming_nullable(self) -> None:
        found = find_breaking_changes(
            partner_api(partner()), partner_api(partner(code=nullable(string())))
        )

        assert found == partner_responses(
            lambda at: f"'{at}code': type changed from string to null|string"
        )

    def test_reports_changed_response_type(self) -> None:
        found = find_breaking_changes(
            partner_api(partner()), partner_api(partner(code={"type": "integer"}))
        )

        assert found == partner_responses(
            lambda at: f"'{at}code': type changed from string to integer"
        )

    def test_reports_new_required_request_field(self) -> None:
        create = obj(
            {"code": string(maxLength=64), "name": string(), "region": string()},
            ("code", "region"),
            additionalProperties=False,
        )

        found = find_breaking_changes(partner_api(partner()), partner_api(partner(), create))

        assert found == ["POST /api/v1/partners: request body: new required property 'region'"]

    def test_reports_request_field_becoming_required(self) -> None:
        create = obj(
            {"code": string(maxLength=64), "name": string()},
            ("code", "name"),
            additionalProperties=False,
        )

        found = find_breaking_changes(partner_api(partner()), partner_api(partner(), create))

        assert found == ["POST /api/v1/partners: request body: property 'name' became required"]

    def test_reports_request_body_becoming_required(self) -> None:
        old = doc({"/x": {"post": post(obj({}), required=False)}})
        new = doc({"/x": {"post": post(obj({}), required=True)}})

        assert find_breaking_changes(old, new) == ["POST /x: request body became required"]

    def test_accepts_added_optional_field(self) -> None:
        create = obj(
            {"code": string(maxLength=64), "name": string(), "note": string()},
            ("code",),
            additionalProperties=False,
        )
        new = partner_api(partner(region=string()), create)  # new response field too

        assert find_breaking_changes(partner_api(partner()), new) == []

    def test_reports_removed_request_field_when_unknown_fields_are_rejected(self) -> None:
        create = obj({"code": string(maxLength=64)}, ("code",), additionalProperties=False)

        found = find_breaking_changes(partner_api(partner()), partner_api(partner(), create))

        assert found == [
            "POST /api/v1/partners: request body: property 'name' removed and now rejected"
        ]

    def test_accepts_removed_request_field_when_unknown_fields_are_ignored(self) -> None:
        old = doc({"/x": {"post": post(obj({"a": string(), "b": string()}))}})
        new = doc({"/x": {"post": post(obj({"a": string()}))}})

        assert find_breaking_changes(old, new) == []

    def test_reports_narrowed_enum(self) -> None:
        old = doc({"/x": {"post": post(obj({"kind": string(enum=["a", "b", "c"])}))}})
        new = doc({"/x": {"post": post(obj({"kind": string(enum=["a", "c"])}))}})
        response_old = partner_api(partner())
        response_new = partner_api(partner(tier=string(enum=["platinum", "gold"])))

        assert find_breaking_changes(old, new) == [
            "POST /x: request body: 'kind': enum values removed: \"b\""
        ]
        assert find_breaking_changes(response_old, response_new) == partner_responses(
            lambda at: f"'{at}tier': enum values removed: \"silver\""
        )

    def test_accepts_widened_enum(self) -> None:
        tiers = ["platinum", "gold", "silver", "registered"]
        old = doc({"/x": {"post": post(obj({"kind": string(enum=["a"])}))}})
        new = doc({"/x": {"post": post(obj({"kind": string(enum=["a", "b"])}))}})

        assert find_breaking_changes(old, new) == []
        widened = partner_api(partner(tier=string(enum=tiers)))
        assert find_breaking_changes(partner_api(partner()), widened) == []

    def test_reports_new_required_query_parameter(self) -> None:
        old = doc({"/x": {"get": get(parameters=[query("a")])}})
        added = doc({"/x": {"get": get(parameters=[query("a"), query("b", required=True)])}})
        now_required = doc({"/x": {"get": get(parameters=[query("a", required=True)])}})

        assert find_breaking_changes(old, added) == [
            "GET /x: query parameter 'b' added as required"
        ]
        assert find_breaking_changes(old, now_required) == [
            "GET /x: query parameter 'a' became required"
        ]

    def test_accepts_removed_query_parameter_and_new_optional_one(self) -> None:
        old = doc({"/x": {"get": get(parameters=[query("a"), query("b")])}})
        new = doc({"/x": {"get": get(parameters=[query("a"), query("c")])}})

        assert find_breaking_changes(old, new) == []

    def test_reports_tightened_parameter_bound(self) -> None:
        old = doc({"/x": {"get": get(parameters=[query("limit", type="integer", maximum=500)])}})
        tighter = doc(
            {"/x": {"get": get(parameters=[query("limit", type="integer", maximum=100)])}}
        )
        looser = doc({"/x": {"get": get(parameters=[query("limit", type="integer")])}})

        assert find_breaking_changes(old, tighter) == [
            "GET /x: query parameter 'limit': maximum tightened from 500 to 100"
        ]
        assert find_breaking_changes(old, looser) == []

    def test_reports_request_type_no_longer_accepted(self) -> None:
        old = doc({"/x": {"post": post(obj({"value": {"type": ["number", "string"]}}))}})
        new = doc({"/x": {"post": post(obj({"value": {"type": "number"}}))}})
        wider = doc(
            {"/x": {"post": post(obj({"value": nullable({"type": ["number", "string"]})}))}}
        )

        assert find_breaking_changes(old, new) == [
            "POST /x: request body: 'value': type changed from number|string to number"
        ]
        assert find_breaking_changes(old, wider) == []

    def test_reports_request_union_variant_no_longer_accepted(self) -> None:
        condition = {"anyOf": [ref("Threshold"), ref("Absence")]}
        schemas = {
            "Threshold": obj({"type": string(const="threshold"), "value": {"type": "number"}}),
            "Absence": obj({"type": string(const="absence"), "days": {"type": "integer"}}),
        }
        old = doc({"/rules": {"post": post(obj({"condition": condition}))}}, schemas)
        new_schemas = {"Threshold-Input": schemas["Threshold"]}
        new_condition = {"anyOf": [ref("Threshold-Input")]}
        new = doc({"/rules": {"post": post(obj({"condition": new_condition}))}}, new_schemas)

        assert find_breaking_changes(old, new) == [
            "POST /rules: request body: 'condition': variant Absence no longer accepted"
        ]

    def test_compares_renamed_components_structurally(self) -> None:
        old = doc({"/x": {"get": get(ref("Partner"))}}, {"Partner": obj({"a": string()})})
        new = doc({"/x": {"get": get(ref("Partner-Output"))}}, {"Partner-Output": obj({})})

        assert find_breaking_changes(old, new) == ["GET /x: response 200: property 'a' removed"]

    def test_compares_renamed_nullable_components_structurally(self) -> None:
        def api(name: str, fields: dict[str, Any]) -> Schema:
            return doc({"/x": {"get": get(obj({"p": nullable(ref(name))}))}}, {name: obj(fields)})

        old = api("Partner", {"a": string(), "b": string()})
        new = api("PartnerRead", {"a": string()})

        assert find_breaking_changes(old, new) == ["GET /x: response 200: property 'p.b' removed"]

    def test_treats_an_integer_as_a_number(self) -> None:
        def api(request: str, response: str) -> Schema:
            return doc({"/x": {"post": post(obj({"v": {"type": request}}), {"type": response})}})

        assert find_breaking_changes(api("integer", "number"), api("number", "integer")) == []
        assert find_breaking_changes(api("number", "integer"), api("integer", "number")) == [
            "POST /x: request body: 'v': type changed from number to integer",
            "POST /x: response 201: type changed from integer to number",
        ]

    def test_follows_all_of(self) -> None:
        base = obj({"id": string(), "name": string()}, ("id", "name"))
        old = doc({"/x": {"get": get({"allOf": [ref("Base"), obj({"extra": string()})]})}})
        old["components"]["schemas"]["Base"] = base
        new = doc({"/x": {"get": get({"allOf": [ref("Base")]})}})
        new["components"]["schemas"]["Base"] = obj({"id": string()}, ("id",))

        assert find_breaking_changes(old, new) == [
            "GET /x: response 200: property 'name' removed",
            "GET /x: response 200: property 'extra' removed",
        ]

    def test_handles_ref_cycles(self) -> None:
        def tree(*fields: str) -> Schema:
            node = obj({f: string() for f in fields})
            node["properties"]["children"] = {"type": "array", "items": ref("Node")}
            node["properties"]["parent"] = nullable(ref("Other"))
            return node

        def other() -> Schema:
            return obj({"node": ref("Node")})  # Node -> Other -> Node

        old = doc({"/tree": {"get": get(ref("Node"))}}, {"Node": tree("a", "b"), "Other": other()})
        new = doc({"/tree": {"get": get(ref("Node"))}}, {"Node": tree("a"), "Other": other()})

        assert find_breaking_changes(old, new) == ["GET /tree: response 200: property 'b' removed"]
        assert find_breaking_changes(new, new) == []

    def test_checks_real_fastapi_documents(self) -> None:
        def api(*, with_email: bool, kinds: tuple[str, ...]) -> Schema:
            Kind = Literal[kinds]  # type: ignore[valid-type]  # noqa: N806

            class Contact(BaseModel):
                name: str
                if with_email:
                    email: str | None = None

            class ContactIn(BaseModel):
                model_config = ConfigDict(extra="forbid")
                name: str
                kind: Kind

            app = FastAPI()

            @app.post("/api/v1/contacts", status_code=201)
            def create(body: ContactIn) -> Contact:
                raise NotImplementedError

            @app.get("/api/v1/contacts")
            def search(limit: int = Query(50, le=500), kind: Kind | None = None) -> list[Contact]:
                raise NotImplementedError

            return app.openapi()

        old = api(with_email=True, kinds=("a", "b"))

        assert find_breaking_changes(old, api(with_email=True, kinds=("a", "b", "c"))) == []
        assert find_breaking_changes(old, api(with_email=False, kinds=("a",))) == [
            "GET /api/v1/contacts: query parameter 'kind': enum values removed: \"b\"",
            "GET /api/v1/contacts: response 200: property '[].email' removed",
            "POST /api/v1/contacts: request body: 'kind': enum values removed: \"b\"",
            "POST /api/v1/contacts: response 201: property 'email' removed",
        ]
