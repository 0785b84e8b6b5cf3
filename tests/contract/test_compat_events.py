"""The backward-compatibility checker (tests/contract/openapi_compat.py) on event schemas."""

from typing import Any, Literal

import pytest
from compat_builders import Schema, def_ref, event, nullable, obj, string
from openapi_compat import find_breaking_changes, find_breaking_event_changes
from pydantic import BaseModel


class TestFindBreakingEventChanges:
    def test_accepts_an_unchanged_schema(self) -> None:
        schema = event({"a": string(), "b": def_ref("B")}, ("a",), B=obj({"c": string()}))

        assert find_breaking_event_changes(schema, schema) == []

    def test_reports_removed_property(self) -> None:
        observations = {"type": "array", "items": def_ref("Observation")}
        old = event(
            {"batch_id": string(), "observations": observations},
            Observation=obj({"id": string(), "region": string()}),
        )
        new = event(
            {"batch_id": string(), "observations": observations},
            Observation=obj({"id": string()}),
        )

        assert find_breaking_event_changes(old, new) == ["property 'observations[].region' removed"]

    def test_reports_narrowed_enum(self) -> None:
        old = event({"status": string(enum=["active", "suspended"])})
        new = event({"status": string(enum=["active"])})

        assert find_breaking_event_changes(old, new) == [
            "'status': enum values removed: \"suspended\""
        ]

    def test_accepts_widened_enum(self) -> None:
        old = event({"status": string(enum=["active"])})
        new = event({"status": string(enum=["active", "suspended"])})

        assert find_breaking_event_changes(old, new) == []

    def test_reports_changed_type(self) -> None:
        old = event({"value": string(), "count": {"type": "integer"}})
        new = event({"value": {"type": "number"}, "count": {"type": "number"}})

        assert find_breaking_event_changes(old, new) == [
            "'value': type changed from string to number",
            "'count': type changed from integer to number",
        ]

    def test_reports_property_no_longer_required(self) -> None:
        old = event({"reason": string()}, ("reason",))
        new = event({"reason": string()})

        assert find_breaking_event_changes(old, new) == [
            "property 'reason' no longer required (may be absent)"
        ]

    def test_accepts_newly_required_property(self) -> None:
        old = event({"reason": string()})
        new = event({"reason": string(), "actor": string()}, ("reason", "actor"))

        assert find_breaking_event_changes(old, new) == []

    def test_accepts_added_optional_property(self) -> None:
        old = event({"reason": string()}, ("reason",))
        new = event({"reason": string(), "note": nullable(string())}, ("reason",))

        assert find_breaking_event_changes(old, new) == []

    def test_handles_ref_cycles(self) -> None:
        def node(*fields: str) -> Schema:
            return obj({**{f: string() for f in fields}, "parent": nullable(def_ref("Node"))})

        old = event({"root": def_ref("Node")}, Node=node("a", "b"))
        new = event({"root": def_ref("Node")}, Node=node("a"))

        assert find_breaking_event_changes(old, new) == ["property 'root.b' removed"]

    def test_checks_pydantic_generated_schemas(self) -> None:
        class TerritoryV1(BaseModel):
            region: str
            exclusive: bool

        class PartnerV1(BaseModel):
            id: str
            tier: Literal["gold", "silver"]
            territories: list[TerritoryV1]

        class TerritoryV2(BaseModel):
            region: str

        class PartnerV2(BaseModel):
            id: str
            tier: Literal["gold"]
            territories: list[TerritoryV2]
            reason: str | None = None

        old = PartnerV1.model_json_schema(mode="serialization")
        new = PartnerV2.model_json_schema(mode="serialization")

        assert find_breaking_event_changes(old, old) == []
        assert find_breaking_event_changes(old, new) == [
            "'tier': enum values removed: \"silver\"",
            "property 'territories[].exclusive' removed",
        ]


@pytest.mark.parametrize("checker", [find_breaking_changes, find_breaking_event_changes])
def test_tolerates_empty_documents(checker: Any) -> None:
    assert checker({}, {}) == []
