"""The AsyncAPI document of every subject (contracts/asyncapi.json), the gateway's copy and
docs/events.md are current; the generator and its rendering follow the code's real settings.

Fix a staleness failure with `make contracts` (then commit the files it names).
"""

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from pydantic import BaseModel, Field

import clients
import contracts

ROOT = Path(__file__).resolve().parents[2]


generator = contracts.asyncapi_document
markdown = contracts.asyncapi_markdown
FIX = "run `make contracts` and commit what it wrote"
# The official JSON Schema of AsyncAPI 3.0.0 documents (npm @asyncapi/specs, locked with the
# TypeScript client's tools).
SPEC_SCHEMA = Path("@asyncapi", "specs", "schemas", "3.0.0-without-$id.json")


def spec_errors(document: dict[str, Any]) -> list[str]:
    """Where `document` breaks the AsyncAPI 3.0.0 schema."""
    schema = json.loads((clients.node_modules() / SPEC_SCHEMA).read_text(encoding="utf-8"))
    errors = Draft7Validator(schema).iter_errors(document)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors)


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    """The document as `make contracts` would write it now."""
    document: dict[str, Any] = contracts.current_asyncapi()
    return document


def test_asyncapi_files_are_current(current: dict[str, Any]) -> None:
    problems = contracts.check_asyncapi(document=current)

    assert problems == [], f"{FIX}:\n" + "\n".join(problems)


def test_committed_document_is_valid_asyncapi_3() -> None:
    committed = json.loads((ROOT / "contracts" / "asyncapi.json").read_text(encoding="utf-8"))

    assert spec_errors(committed) == []


def test_the_asyncapi_schema_catches_a_broken_document(current: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(current))
    next(iter(broken["operations"].values()))["action"] = "publish"  # AsyncAPI 2 wording
    broken["channels"]["kpi.ingest.v1"]["messages"] = ["not a message"]

    errors = spec_errors(broken)

    assert any(error.startswith("operations/") for error in errors), errors
    assert any(error.startswith("channels/kpi.ingest.v1") for error in errors), errors


def test_document_covers_every_published_and_consumed_subject(current: dict[str, Any]) -> None:
    published = set(contracts.current_event_schemas())

    assert set(current["channels"]) == published | {"kpi.ingest.v1"}


def test_consumers_carry_the_services_real_settings(current: dict[str, Any]) -> None:
    from alert_svc.settings import Settings

    settings = Settings(jwt_key="x")
    consumers = current["channels"]["kpi.observations.recorded.v1"]["x-durable-consumers"]

    assert consumers == [
        {
            "service": "alert-svc",
            "durable": "alert-svc-observations",
            "stream": "KPI",
            "filter_subjects": ["kpi.observations.recorded.v1"],
            "ack_policy": "explicit",
            "deliver_policy": "all",
            "max_deliver": settings.consumer_max_deliver,
            "ack_wait_seconds": settings.consumer_ack_wait_seconds,
            "retry_delay_seconds": {
                "base": settings.consumer_retry_base_seconds,
                "max": settings.consumer_retry_max_seconds,
                "rule": "nak delay = base * 2^(delivery - 1), capped at max",
            },
            "dead_letter": f"after {settings.consumer_max_deliver} failed deliveries: a row in "
            "alert-svc's dead_letters table, the message terminated, the consumer goes on",
        }
    ]


def test_payloads_are_the_committed_event_schemas(current: dict[str, Any]) -> None:
    for path in sorted((ROOT / "contracts" / "events").glob("*.json")):
        committed = json.loads(path.read_text(encoding="utf-8"))
        expected = generator.payload_schema(path.stem, committed)

        assert current["components"]["schemas"][path.stem] == expected, path.stem


# --- the generator and the rendering, on a synthetic catalogue (no service needed) ---


class Item(BaseModel):
    """One thing."""

    id: str
    size: int = Field(description="How big.")


class ThingsDone(BaseModel):
    """Things were done.

    In batches."""

    items: list[Item]


def catalogue(**overrides: Any) -> Any:
    publishers = {
        "thing.done.v1": generator.Publisher("thing-svc", "urn:thing-svc", ThingsDone),
        "thing.asked.v1": generator.Publisher(None, None, Item, "Requests from outside."),
    }
    consumers = [
        generator.Consumer("b-svc", "b-things", "THING", ("thing.>",), 5, 30.0, 0.5, 30.0),
        generator.Consumer("a-svc", "a-done", "THING", ("thing.done.v1",), 3, 10.0, 1.0, 8.0),
        generator.Consumer("c-svc", "c-other", "OTHER", ("thing.>",), 5, 30.0, 0.5, 30.0),
    ]
    values = {"publishers": publishers, "consumers": consumers, "streams": {"THING": ["thing.>"]}}
    return generator.Catalogue(**(values | overrides))


def build(**overrides: Any) -> dict[str, Any]:
    schema = contracts.event_schema("thing.done.v1", ThingsDone)
    document: dict[str, Any] = generator.build_document(
        catalogue=catalogue(**overrides), event_schemas={"thing.done.v1": schema}
    )
    return document


class TestSubjectMatching:
    @pytest.mark.parametrize(
        ("pattern", "subject", "matches"),
        [
            ("partner.>", "partner.tier.changed.v1", True),
            ("partner.>", "partner", False),
            ("kpi.*.v1", "kpi.ingest.v1", True),
            ("kpi.*.v1", "kpi.ingest.rejected.v1", False),
            ("kpi.ingest.v1", "kpi.ingest.v1", True),
            ("kpi.ingest.v1", "kpi.ingest.rejected.v1", False),
            ("rebate.>", "partner.updated.v1", False),
        ],
    )
    def test_nats_wildcards(self, pattern: str, subject: str, matches: bool) -> None:
        assert generator.subject_matches(pattern, subject) is matches


class TestBuildDocument:
    def test_channels_are_subjects_with_their_stream_and_durables(self) -> None:
        document = build()

        done = document["channels"]["thing.done.v1"]
        assert done["address"] == "thing.done.v1"
        assert done["x-stream"] == "THING"
        assert done["description"] == "Things were done.\n\nIn batches."
        assert [c["durable"] for c in done["x-durable-consumers"]] == ["b-things", "a-done"]
        asked = document["channels"]["thing.asked.v1"]
        assert [c["durable"] for c in asked["x-durable-consumers"]] == ["b-things"]

    def test_a_sender_for_the_publisher_and_a_receiver_per_durable(self) -> None:
        operations = build()["operations"]

        assert sorted(operations) == [
            "a-done.receive.thing.done.v1",
            "b-things.receive.thing.asked.v1",
            "b-things.receive.thing.done.v1",
            "thing-svc.send.thing.done.v1",
        ]
        send = operations["thing-svc.send.thing.done.v1"]
        assert send["action"] == "send"
        assert send["channel"] == {"$ref": "#/channels/thing.done.v1"}
        assert send["messages"] == [{"$ref": "#/channels/thing.done.v1/messages/event"}]

    def test_payload_references_resolve_inside_the_document(self) -> None:
        document = build()

        payload = document["components"]["schemas"]["thing.done.v1"]
        assert "$id" not in payload
        assert "$schema" not in payload
        item_ref = payload["properties"]["items"]["items"]["$ref"]
        assert item_ref == "#/components/schemas/thing.done.v1/$defs/Item"
        assert markdown.resolve(document, item_ref)["properties"]["size"]["type"] == "integer"

    def test_headers_pin_type_and_source_of_published_events_only(self) -> None:
        messages = build()["components"]["messages"]

        done = messages["thing.done.v1"]["headers"]
        assert done["properties"]["ce-type"]["const"] == "thing.done.v1"
        assert done["properties"]["ce-source"]["const"] == "urn:thing-svc"
        assert "Nats-Msg-Id" in done["required"]
        asked = messages["thing.asked.v1"]["headers"]
        assert "const" not in asked["properties"]["ce-source"]
        assert asked["required"] == ["ce-specversion", "ce-id", "ce-type", "ce-source"]

    def test_a_published_subject_without_a_committed_schema_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no committed event schema"):
            generator.build_document(catalogue=catalogue(), event_schemas={})

    def test_a_subject_outside_every_stream_is_an_error(self) -> None:
        with pytest.raises(ValueError, match=r"thing\.asked\.v1: in streams \[\]"):
            build(streams={"THING": ["thing.done.v1"]})


class TestMarkdown:
    def test_one_section_per_subject_with_stream_publisher_consumers_and_fields(self) -> None:
        text = markdown.render_markdown(build())

        assert text.startswith("# Events\n")
        section = text.split("## `thing.done.v1`", 1)[1]
        assert "- **Stream:** `THING`" in section
        assert "- **Published by:** thing-svc (`ce-source: urn:thing-svc`)" in section
        consumer_row = (
            "| `a-done` | a-svc | `thing.done.v1` | 10 s | 1 s doubling, ≤ 8 s | 3 deliveries |"
        )
        assert consumer_row in section
        assert "at-least-once delivery, effectively-once effect" in section
        assert "| `items` | array of Item | yes |  |" in section
        assert "| `size` | integer | yes | How big. |" in section
        asked = text.split("## `thing.asked.v1`", 1)[1].split("## `", 1)[0]
        assert "systems outside the suite" in asked

    def test_rendering_the_committed_document_gives_the_committed_page(self) -> None:
        committed = json.loads((ROOT / "contracts" / "asyncapi.json").read_text(encoding="utf-8"))

        page = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")

        assert markdown.render_markdown(committed) == page, FIX


class TestWriteAndCheck:
    def test_write_then_check(self, tmp_path: Path) -> None:
        document = build()

        assert contracts.check_asyncapi(tmp_path, document) == [
            "contracts/asyncapi.json: missing",
            "services/gateway/src/gateway/asyncapi.json: missing",
            "docs/events.md: missing",
        ]
        assert len(contracts.write_asyncapi(tmp_path, document)) == 3
        assert contracts.check_asyncapi(tmp_path, document) == []
        assert json.loads((tmp_path / "contracts" / "asyncapi.json").read_text()) == document

    def test_a_changed_document_is_outdated_everywhere(self, tmp_path: Path) -> None:
        contracts.write_asyncapi(tmp_path, build())

        problems = contracts.check_asyncapi(tmp_path, build(consumers=[]))

        assert problems == [
            "contracts/asyncapi.json: outdated (differs from the current document)",
            "services/gateway/src/gateway/asyncapi.json: outdated (differs from the current "
            "document)",
            "docs/events.md: outdated (differs from the current document)",
        ]
