"""The AsyncAPI 3.0 document of every event subject of the suite (``make contracts`` writes it).

Channels are subjects. Each published subject has a ``send`` operation of its publisher and a
``receive`` operation per durable consumer that takes it; subjects that systems outside the suite
publish (``kpi.ingest.v1``) have only the receiving side. What a consumer and a stream really do
is read from the code: ``channel_common.STREAMS``, each service's ``events.PUBLISHED`` and
``SOURCE``, its ``consumers.subscriptions`` and its consumer settings. Payloads are the committed
event schemas (``contracts/events/``); the envelope is CloudEvents 1.0 in binary mode.

``discover_catalogue`` imports the services; ``build_document`` is a pure function of the
catalogue and the payload schemas.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channel_common import STREAMS, _bus
from pydantic import BaseModel

__all__ = [
    "ASYNCAPI_VERSION",
    "Catalogue",
    "Consumer",
    "Publisher",
    "build_document",
    "discover_catalogue",
    "subject_matches",
]

Document = dict[str, Any]
ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
# Service name -> import package; the gateway publishes and consumes nothing.
SERVICES: dict[str, str] = {
    "partner-svc": "partner_svc",
    "kpi-svc": "kpi_svc",
    "rebate-svc": "rebate_svc",
    "alert-svc": "alert_svc",
}
# Subjects that systems outside the suite publish: subject -> (module, model of the data, what
# it is). kpi-svc declares the subject (events.INGEST) but not its model, which is its HTTP input.
EXTERNAL_SUBJECTS: dict[str, tuple[str, str, str]] = {
    "kpi.ingest.v1": (
        "kpi_svc.schemas",
        "ObservationBatch",
        "Observation batches from high-volume producers (ERP, POS feeds): the body of "
        "`POST /api/v1/observations`, ingested the same way. What is refused comes back on "
        "`kpi.ingest.rejected.v1` with `ingest_event_id` = this event's `ce-id`; an item "
        "without an `id` gets one derived from the event id, so a redelivery cannot count twice.",
    ),
}
SETTINGS_JWT_KEY = "asyncapi-document"
# Every stream has file storage and this Nats-Msg-Id window (seconds).
DUPLICATE_WINDOW_SECONDS = int(_bus.DUPLICATE_WINDOW_SECONDS)
EMBEDDED_NATS = "127.0.0.1:4322"
MESSAGE_KEY = "event"
SCHEMA_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Publisher:
    """Who publishes a subject and the model of its data (``None``: outside the suite)."""

    service: str | None
    source: str | None
    model: type[BaseModel]
    description: str | None = None

    @property
    def about(self) -> str:
        """What the subject carries: the description, else the model's docstring."""
        return self.description or inspect.cleandoc(self.model.__doc__ or self.model.__name__)


@dataclass(frozen=True)
class Consumer:
    """A durable pull consumer as the service starts it."""

    service: str
    durable: str
    stream: str
    filter_subjects: tuple[str, ...]
    max_deliver: int
    ack_wait_seconds: float
    retry_base_seconds: float
    retry_max_seconds: float


@dataclass(frozen=True)
class Catalogue:
    """Everything the document describes, discovered from the code."""

    publishers: dict[str, Publisher]
    consumers: list[Consumer]
    streams: dict[str, list[str]] = field(default_factory=lambda: dict(STREAMS))


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return index == len(wanted) - 1 and len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(wanted) == len(tokens)


def _settings(package: str) -> Any:
    return importlib.import_module(f"{package}.settings").Settings(jwt_key=SETTINGS_JWT_KEY)


def _consumers(service: str, package: str) -> list[Consumer]:
    try:
        module = importlib.import_module(f"{package}.consumers")
    except ModuleNotFoundError as exc:
        if exc.name == f"{package}.consumers":
            return []  # consumes nothing
        raise
    settings = _settings(package)
    factory = module.subscriptions
    subscriptions = factory(settings) if inspect.signature(factory).parameters else factory()
    return [
        Consumer(
            service=service,
            durable=sub.durable,
            stream=sub.stream,
            filter_subjects=tuple(sub.subjects),
            max_deliver=settings.consumer_max_deliver,
            ack_wait_seconds=settings.consumer_ack_wait_seconds,
            retry_base_seconds=settings.consumer_retry_base_seconds,
            retry_max_seconds=settings.consumer_retry_max_seconds,
        )
        for sub in subscriptions
    ]


def discover_catalogue() -> Catalogue:
    """Publishers and durable consumers of every service (importing them connects nothing)."""
    publishers: dict[str, Publisher] = {}
    consumers: list[Consumer] = []
    for service, package in SERVICES.items():
        events = importlib.import_module(f"{package}.events")
        for subject, model in events.PUBLISHED.items():
            publishers[subject] = Publisher(service=service, source=events.SOURCE, model=model)
        consumers += _consumers(service, package)
    for subject, (module, name, description) in EXTERNAL_SUBJECTS.items():
        model = getattr(importlib.import_module(module), name)
        publishers[subject] = Publisher(None, None, model, description)
    return Catalogue(publishers=publishers, consumers=consumers)


def _rewrite_defs(node: Any, base: str) -> Any:
    """``#/$defs/X`` -> ``<base>/$defs/X``, so references resolve inside the whole document."""
    if isinstance(node, dict):
        return {key: _rewrite_defs(value, base) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_defs(value, base) for value in node]
    if isinstance(node, str) and node.startswith("#/$defs/"):
        return base + node[1:]
    return node


def payload_schema(subject: str, schema: Mapping[str, Any]) -> Document:
    """An event's JSON Schema as a component of the document (no ``$schema``/``$id``)."""
    kept = {key: value for key, value in schema.items() if key not in ("$schema", "$id")}
    rewritten: Document = _rewrite_defs(kept, SCHEMA_REF + subject)
    return rewritten


def headers_schema(subject: str, source: str | None) -> Document:
    """The CloudEvents binary-mode headers of one subject's messages."""
    published_here = source is not None
    properties: Document = {
        "ce-specversion": {"const": "1.0", "description": "CloudEvents version."},
        "ce-id": {"type": "string", "minLength": 1, "description": "Unique event id."},
        "ce-type": {"const": subject, "description": "The event type (= the subject)."},
        "ce-source": (
            {"const": source, "description": "The publishing service."}
            if published_here
            else {"type": "string", "minLength": 1, "description": "The producing system."}
        ),
        "ce-time": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC."},
        "ce-subject": {"type": "string", "description": "The id of the entity, when one."},
        "content-type": {"const": "application/json"},
        "Nats-Msg-Id": {
            "type": "string",
            "description": "= ce-id: JetStream drops a republished duplicate within "
            f"{DUPLICATE_WINDOW_SECONDS} s.",
        },
        "traceparent": {"type": "string", "description": "W3C trace context, when traced."},
    }
    required = ["ce-specversion", "ce-id", "ce-type", "ce-source"]
    if published_here:
        required += ["ce-time", "content-type", "Nats-Msg-Id"]
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "description": "CloudEvents 1.0 in binary mode: the attributes as NATS headers.",
    }


def stream_of(subject: str, streams: Mapping[str, list[str]]) -> str:
    """The stream whose subjects cover ``subject``."""
    owners = [
        name
        for name, patterns in streams.items()
        if any(subject_matches(pattern, subject) for pattern in patterns)
    ]
    if len(owners) != 1:
        raise ValueError(f"{subject}: in streams {owners}, expected exactly one")
    return owners[0]


def _consumer_entry(consumer: Consumer) -> Document:
    return {
        "service": consumer.service,
        "durable": consumer.durable,
        "stream": consumer.stream,
        "filter_subjects": list(consumer.filter_subjects),
        # channel_common._bus: pull consumers, explicit ack, from the stream's first message.
        "ack_policy": "explicit",
        "deliver_policy": "all",
        "max_deliver": consumer.max_deliver,
        "ack_wait_seconds": consumer.ack_wait_seconds,
        "retry_delay_seconds": {
            "base": consumer.retry_base_seconds,
            "max": consumer.retry_max_seconds,
            "rule": "nak delay = base * 2^(delivery - 1), capped at max",
        },
        "dead_letter": f"after {consumer.max_deliver} failed deliveries: a row in "
        f"{consumer.service}'s dead_letters table, the message terminated, the consumer goes on",
    }


def _delivery(publisher: Publisher) -> Document:
    publishing = (
        "the transactional outbox of the publisher (published after the commit)"
        if publisher.service is not None
        else "the producing system, which sets Nats-Msg-Id = ce-id"
    )
    return {
        "publishing": publishing,
        "delivery": "at-least-once",
        "effect": "effectively-once: each durable consumer records ce-id in its inbox in the "
        "transaction of the effect, acks after the commit, and skips a redelivered event",
        "dedupe_window_seconds": DUPLICATE_WINDOW_SECONDS,
        "dedupe_header": "Nats-Msg-Id",
        "ordering": "stream order within one consumer process (fetched in batches, one at a time)",
    }


def _channel(
    subject: str, publisher: Publisher, stream: str, consumers: list[Consumer]
) -> Document:
    return {
        "address": subject,
        "title": subject,
        "description": publisher.about,
        "messages": {MESSAGE_KEY: {"$ref": f"#/components/messages/{subject}"}},
        "x-stream": stream,
        "x-publisher": publisher.service or "external",
        "x-durable-consumers": [_consumer_entry(consumer) for consumer in consumers],
        "x-delivery": _delivery(publisher),
    }


def _operations(subject: str, publisher: Publisher, consumers: list[Consumer]) -> Document:
    channel = {"$ref": f"#/channels/{subject}"}
    messages = [{"$ref": f"#/channels/{subject}/messages/{MESSAGE_KEY}"}]
    operations: Document = {}
    if publisher.service is not None:
        operations[f"{publisher.service}.send.{subject}"] = {
            "action": "send",
            "channel": channel,
            "messages": messages,
            "summary": f"{publisher.service} publishes {subject} through its outbox.",
            "x-service": publisher.service,
        }
    for consumer in consumers:
        operations[f"{consumer.durable}.receive.{subject}"] = {
            "action": "receive",
            "channel": channel,
            "messages": messages,
            "summary": f"{consumer.service} consumes {subject} (durable {consumer.durable}).",
            "x-service": consumer.service,
            "x-durable-consumer": consumer.durable,
        }
    return operations


def _message(subject: str, publisher: Publisher) -> Document:
    return {
        "name": subject,
        "title": subject,
        "summary": publisher.about.split(". ")[0].splitlines()[0].rstrip(".") + ".",
        "contentType": "application/json",
        "headers": headers_schema(subject, publisher.source),
        "payload": {"$ref": SCHEMA_REF + subject},
    }


def _info() -> Document:
    return {
        "title": "Channel Suite events",
        "version": DOCUMENT_VERSION,
        "description": (
            "Every NATS JetStream subject of Channel Suite. A subject is an event type "
            "(`<domain>.<entity>.<past-tense verb>.v<N>`); a breaking change gets a new `.vN`. "
            "Envelope: CloudEvents 1.0 in binary mode (`ce-*` headers, JSON body = `data`). "
            "Publishing is transactional (outbox); delivery is at-least-once to durable pull "
            "consumers that ack after their database commit and keep an inbox of event ids, so "
            "a redelivery changes nothing. Consumers ignore unknown fields."
        ),
    }


def build_document(*, catalogue: Catalogue, event_schemas: Mapping[str, Document]) -> Document:
    """The AsyncAPI document: ``event_schemas`` (subject -> JSON Schema) for the published
    subjects, the external subjects' models for the others."""
    channels: Document = {}
    operations: Document = {}
    messages: Document = {}
    schemas: Document = {}
    for subject in sorted(catalogue.publishers):
        publisher = catalogue.publishers[subject]
        if publisher.service is not None:
            if subject not in event_schemas:
                raise ValueError(f"{subject}: no committed event schema")
            schema = event_schemas[subject]
        else:
            schema = {**publisher.model.model_json_schema(mode="validation"), "title": subject}
        stream = stream_of(subject, catalogue.streams)
        consumers = [
            consumer
            for consumer in catalogue.consumers
            if consumer.stream == stream
            and any(subject_matches(pattern, subject) for pattern in consumer.filter_subjects)
        ]
        channels[subject] = _channel(subject, publisher, stream, consumers)
        operations |= _operations(subject, publisher, consumers)
        messages[subject] = _message(subject, publisher)
        schemas[subject] = payload_schema(subject, schema)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:channel-suite:events",
        "info": _info(),
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {
                "host": EMBEDDED_NATS,
                "protocol": "nats",
                "description": "The JetStream server of `make run`; NATS_URL names another.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
        "x-streams": {
            name: {
                "subjects": subjects,
                "storage": "file",
                "duplicate_window_seconds": DUPLICATE_WINDOW_SECONDS,
            }
            for name, subjects in catalogue.streams.items()
        },
    }
