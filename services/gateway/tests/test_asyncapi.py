"""`/asyncapi.json`: the packaged AsyncAPI document of every event subject, served publicly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway import asyncapi
from jsonschema import Draft202012Validator, ValidationError

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "contracts" / "asyncapi.json"
PACKAGED = ROOT / "services" / "gateway" / "src" / "gateway" / "asyncapi.json"
FIX = "run `make contracts` and commit contracts/ and the gateway's asyncapi.json"
CLOUDEVENT_HEADERS = {"ce-id", "ce-type", "ce-source", "ce-specversion"}


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` value anywhere under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The node a local JSON pointer reference names (KeyError when none)."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The document as the gateway packages it."""
    loaded: dict[str, Any] = json.loads(asyncapi.load_asyncapi_document())
    return loaded


def payload_validator(document: dict[str, Any], subject: str) -> Draft202012Validator:
    """A validator of one subject's `data`, resolving references inside the whole document."""
    payload_ref = resolve(document, f"#/components/messages/{subject}")["payload"]["$ref"]
    return Draft202012Validator({**document, "$ref": payload_ref})


class TestServedDocument:
    async def test_is_public_and_equals_the_committed_document(
        self, gateway: httpx.AsyncClient
    ) -> None:
        response = await gateway.get("/asyncapi.json")  # no credentials

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == json.loads(COMMITTED.read_text(encoding="utf-8"))

    async def test_is_not_an_api_operation(self, gateway: httpx.AsyncClient) -> None:
        assert "/asyncapi.json" not in (await gateway.get("/openapi.json")).json()["paths"]

    def test_packaged_copy_is_the_committed_document(self) -> None:
        assert PACKAGED.read_bytes() == COMMITTED.read_bytes(), FIX

    def test_missing_document_fails_at_startup(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(asyncapi, "ASYNCAPI_RESOURCE", "no-such-asyncapi.json")

        with pytest.raises(RuntimeError, match="make contracts"):
            asyncapi.load_asyncapi_document()

    def test_gateway_imports_no_service_package(self) -> None:
        probe = (
            "import sys, gateway.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0].endswith('_svc')))"
        )
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        )

        assert result.stdout.strip() == "[]"


class TestAsyncApiShape:
    def test_is_asyncapi_3(self, document: dict[str, Any]) -> None:
        assert document["asyncapi"] == "3.0.0"
        assert document["info"]["title"]
        assert document["info"]["version"]
        assert document["defaultContentType"] == "application/json"
        assert {server["protocol"] for server in document["servers"].values()} == {"nats"}

    def test_every_reference_resolves(self, document: dict[str, Any]) -> None:
        unresolved = []
        for ref in set(refs(document)):
            try:
                resolve(document, ref)
            except (KeyError, TypeError):
                unresolved.append(ref)

        assert unresolved == []

    def test_every_channel_is_a_subject_in_one_stream(self, document: dict[str, Any]) -> None:
        streams = document["x-streams"]
        for key, channel in document["channels"].items():
            assert channel["address"] == key
            assert channel["x-stream"] in streams
            prefix = streams[channel["x-stream"]]["subjects"][0].removesuffix(">")
            assert key.startswith(prefix), key
            assert channel["messages"], key
            assert channel["x-delivery"]["delivery"] == "at-least-once"

    def test_operations_point_at_their_channel_and_its_messages(
        self, document: dict[str, Any]
    ) -> None:
        for name, operation in document["operations"].items():
            assert operation["action"] in ("send", "receive"), name
            channel_ref = operation["channel"]["$ref"]
            assert channel_ref.startswith("#/channels/"), name
            resolve(document, channel_ref)
            for message in operation["messages"]:
                assert message["$ref"].startswith(channel_ref + "/messages/"), name

    def test_every_message_has_cloudevents_headers_and_a_json_schema_payload(
        self, document: dict[str, Any]
    ) -> None:
        for subject, message in document["components"]["messages"].items():
            headers = message["headers"]
            assert headers["type"] == "object"
            assert set(headers["required"]) >= CLOUDEVENT_HEADERS, subject
            assert headers["properties"]["ce-type"] == {
                "const": subject,
                "description": "The event type (= the subject).",
            }
            payload = resolve(document, message["payload"]["$ref"])
            Draft202012Validator.check_schema(payload)
            assert payload["type"] == "object", subject
            assert payload["properties"], subject

    def test_published_subjects_have_one_sender_and_consumers_their_durables(
        self, document: dict[str, Any]
    ) -> None:
        channels = document["channels"]
        for subject, channel in channels.items():
            operations = [
                (op["action"], op["x-service"], op.get("x-durable-consumer"))
                for op in document["operations"].values()
                if op["channel"]["$ref"] == f"#/channels/{subject}"
            ]
            senders = [service for action, service, _ in operations if action == "send"]
            durables = [durable for action, _, durable in operations if action == "receive"]
            external = channel["x-publisher"] == "external"
            assert senders == ([] if external else [channel["x-publisher"]]), subject
            assert durables == [c["durable"] for c in channel["x-durable-consumers"]], subject


class TestCatalogue:
    def test_partner_events_reach_every_replica_keeper(self, document: dict[str, Any]) -> None:
        channel = document["channels"]["partner.tier.changed.v1"]

        assert channel["x-stream"] == "PARTNER"
        assert channel["x-publisher"] == "partner-svc"
        assert {c["durable"] for c in channel["x-durable-consumers"]} == {
            "kpi-svc-partners",
            "rebate-partners",
            "alert-svc-partners",
        }

    def test_ingestion_subjects(self, document: dict[str, Any]) -> None:
        ingest = document["channels"]["kpi.ingest.v1"]
        rejected = document["channels"]["kpi.ingest.rejected.v1"]

        assert ingest["x-publisher"] == "external"
        assert [c["durable"] for c in ingest["x-durable-consumers"]] == ["kpi-svc-ingest"]
        assert rejected["x-publisher"] == "kpi-svc"
        assert "kpi-svc.send.kpi.ingest.rejected.v1" in document["operations"]

    def test_payload_schemas_accept_events_and_refuse_broken_ones(
        self, document: dict[str, Any]
    ) -> None:
        validator = payload_validator(document, "kpi.ingest.v1")
        item = {
            "partner_id": "0b7e8a43-42a3-4d0e-9a49-b1d7a1ab8f3e",
            "kpi": "sales_amount",
            "value": "1234.50",
            "occurred_on": "2026-10-15",
        }

        validator.validate({"observations": [item]})
        with pytest.raises(ValidationError):
            validator.validate({"observations": [{k: v for k, v in item.items() if k != "kpi"}]})
        with pytest.raises(ValidationError):
            validator.validate({"observations": []})
