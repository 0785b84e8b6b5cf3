"""``docs/events.md``: the AsyncAPI document of the suite's events, rendered for people.

One section per subject: its stream, publisher, durable consumers with their settings, the
delivery guarantees and the payload's fields. ``make contracts`` writes it; a test checks it is
current. Everything here comes from the document, nothing from the services.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

__all__ = ["render_markdown", "resolve"]

Document = dict[str, Any]
TITLE = "# Events"


def resolve(document: Document, ref: str) -> Any:
    """The node a local ``$ref`` (``#/a/b``) points to; KeyError when it points nowhere."""
    if not ref.startswith("#/"):
        raise KeyError(f"not a local reference: {ref}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(schema: Document) -> str:
    """A short type text: ``string (uuid)``, ``array of AggregateUpdate``, ``a | null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(part) for part in schema["anyOf"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        low, high = schema.get("minItems"), schema.get("maxItems")
        bounds = f" ({low or 0}..{high if high is not None else ''} items)" if low or high else ""
        return f"array of {_type(schema.get('items', {}))}{bounds}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of string to {_type(schema['additionalProperties'])}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _fields(schema: Document) -> Iterator[str]:
    required = set(schema.get("required", []))
    yield "| field | type | required | description |"
    yield "|---|---|---|---|"
    for name, prop in schema.get("properties", {}).items():
        description = prop.get("description", "")
        yield (
            f"| `{name}` | {_cell(_type(prop))} | {'yes' if name in required else 'no'} "
            f"| {_cell(description)} |"
        )


def _payload(document: Document, message: Document) -> Iterator[str]:
    payload = resolve(document, message["payload"]["$ref"])
    yield "Payload (`data`, JSON):"
    yield ""
    yield from _fields(payload)
    for name, definition in payload.get("$defs", {}).items():
        yield ""
        about = definition.get("description")
        yield f"`{name}`" + (f" — {_cell(about)}" if about else "")
        yield ""
        yield from _fields(definition)


def _consumers(channel: Document) -> Iterator[str]:
    consumers = channel["x-durable-consumers"]
    if not consumers:
        yield "Durable consumers: none in the suite (other systems may add their own)."
        return
    yield "Durable consumers:"
    yield ""
    yield "| durable | service | filter | ack wait | retry (nak delay) | dead letter after |"
    yield "|---|---|---|---|---|---|"
    for consumer in consumers:
        retry = consumer["retry_delay_seconds"]
        filters = ", ".join(f"`{s}`" for s in consumer["filter_subjects"])
        yield (
            f"| `{consumer['durable']}` | {consumer['service']} | {filters} "
            f"| {consumer['ack_wait_seconds']:g} s | {retry['base']:g} s doubling, "
            f"≤ {retry['max']:g} s | {consumer['max_deliver']} deliveries |"
        )


def _guarantees(delivery: Document) -> str:
    return (
        f"{delivery['delivery']} delivery, effectively-once effect (inbox of `ce-id` per "
        f"durable consumer), duplicates with the same `{delivery['dedupe_header']}` dropped "
        f"within {delivery['dedupe_window_seconds']} s; published by {delivery['publishing']}"
    )


def _subject(document: Document, subject: str, channel: Document) -> Iterator[str]:
    message = resolve(document, channel["messages"]["event"]["$ref"])
    source = message["headers"]["properties"]["ce-source"].get("const")
    yield f"## `{subject}`"
    yield ""
    yield channel["description"]
    yield ""
    yield f"- **Stream:** `{channel['x-stream']}`"
    if source is None:
        yield "- **Published by:** systems outside the suite (their own `ce-source`)"
    else:
        yield f"- **Published by:** {channel['x-publisher']} (`ce-source: {source}`)"
    yield f"- **Guarantees:** {_guarantees(channel['x-delivery'])}."
    yield ""
    yield from _consumers(channel)
    yield ""
    yield from _payload(document, message)
    yield ""


def _delivery_section(document: Document) -> Iterator[str]:
    delivery = next(iter(document["channels"].values()))["x-delivery"]
    yield "## Delivery guarantees"
    yield ""
    yield "- **Publishing:** the suite's events go through a transactional outbox: written in the"
    yield "  transaction of the change, published by a relay after the commit. An event exists"
    yield "  if and only if its change committed; the relay may publish it again after a crash,"
    yield f"  which JetStream drops within {delivery['dedupe_window_seconds']} s by"
    yield f"  `{delivery['dedupe_header']}` (= `ce-id`)."
    yield f"- **Delivery:** {delivery['delivery']}, to durable pull consumers with explicit acks."
    yield f"- **Effect:** {delivery['effect']}."
    yield "- **Failures:** a failed event is retried with growing nak delays; after the last"
    yield "  delivery it is stored as a dead letter (counted in metrics) and the consumer goes on."
    yield f"- **Ordering:** {delivery['ordering']}."
    yield ""


def _envelope(document: Document) -> Iterator[str]:
    messages = document["components"]["messages"]
    published = next(
        m for m in messages.values() if "const" in m["headers"]["properties"]["ce-source"]
    )
    headers = published["headers"]
    yield "## Envelope"
    yield ""
    yield "CloudEvents 1.0 in binary mode: the attributes are NATS headers, the body is `data`."
    yield "Required on events the suite publishes:"
    yield ""
    yield "| header | required | meaning |"
    yield "|---|---|---|"
    for name, schema in headers["properties"].items():
        meaning = schema.get("description", "")
        if "const" in schema and name != "ce-type" and name != "ce-source":
            meaning = f"`{schema['const']}`" + (f" — {meaning}" if meaning else "")
        required = "yes" if name in headers["required"] else "no"
        yield f"| `{name}` | {required} | {_cell(meaning)} |"
    yield ""


def _overview(document: Document) -> Iterator[str]:
    yield "## Streams"
    yield ""
    yield "| stream | subjects | storage | duplicate window |"
    yield "|---|---|---|---|"
    for name, stream in document["x-streams"].items():
        subjects = ", ".join(f"`{s}`" for s in stream["subjects"])
        yield (
            f"| `{name}` | {subjects} | {stream['storage']} "
            f"| {stream['duplicate_window_seconds']} s |"
        )
    yield ""
    yield "## Subjects"
    yield ""
    yield "| subject | stream | published by | durable consumers |"
    yield "|---|---|---|---|"
    for subject, channel in document["channels"].items():
        durables = ", ".join(
            f"`{c['durable']}` ({c['service']})" for c in channel["x-durable-consumers"]
        )
        yield (
            f"| [`{subject}`](#{subject.replace('.', '')}) | `{channel['x-stream']}` "
            f"| {channel['x-publisher']} | {durables or '—'} |"
        )
    yield ""


def render_markdown(document: Document) -> str:
    """The text of ``docs/events.md`` for an AsyncAPI document built by ``asyncapi_document``."""
    lines = [
        TITLE,
        "",
        "<!-- Generated by `make contracts` from contracts/asyncapi.json: do not edit. -->",
        "",
        document["info"]["description"],
        "",
        "The machine-readable form is the AsyncAPI "
        f"{document['asyncapi']} document `contracts/asyncapi.json`, also served by the gateway "
        "at `/asyncapi.json` (no credentials needed).",
        "",
    ]
    lines += _overview(document)
    lines += _delivery_section(document)
    lines += _envelope(document)
    for subject, channel in document["channels"].items():
        lines += _subject(document, subject, channel)
    return "\n".join(lines).rstrip("\n") + "\n"
