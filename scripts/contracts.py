"""Generate or check the committed API contracts (``make contracts``).

``python scripts/contracts.py`` writes ``contracts/openapi/<service>.json`` (each service's
OpenAPI document) and ``contracts/events/<subject>.json`` (the JSON Schema of each published
event's ``data``), and deletes snapshot files that no longer correspond to anything.

``python scripts/contracts.py --check`` writes nothing. It exits 1 listing every snapshot that is
missing, stale or outdated, and every backward-incompatible change from the committed snapshot
to the current document (see ``tests/contract/openapi_compat.py`` for the rules), so a developer
sees both "the snapshot is outdated" and "this change breaks clients".

It also writes -- or with ``--check`` checks -- the
AsyncAPI document of every event subject (``contracts/asyncapi.json``, the gateway's packaged
copy ``services/gateway/src/gateway/asyncapi.json``) and its rendering ``docs/events.md``; see
``scripts/asyncapi_document.py``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = ROOT / "contracts"
COMPAT_MODULE = ROOT / "tests" / "contract" / "openapi_compat.py"
SCRIPTS_DIR = ROOT / "scripts"
# The AsyncAPI document and its renderings, relative to the repository root.
ASYNCAPI_JSON = Path("contracts", "asyncapi.json")
GATEWAY_ASYNCAPI_JSON = Path("services", "gateway", "src", "gateway", "asyncapi.json")
EVENTS_MARKDOWN = Path("docs", "events.md")

# service name (snapshot file name) -> import package
SERVICES: dict[str, str] = {
    "partner-svc": "partner_svc",
    "kpi-svc": "kpi_svc",
    "rebate-svc": "rebate_svc",
    "alert-svc": "alert_svc",
    "gateway": "gateway",
}
SNAPSHOT_JWT_KEY = "contract-snapshot"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SUBJECT_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+\.v[1-9][0-9]*$")

Document = dict[str, Any]
Checker = Callable[[Document, Document], list[str]]


def _load_module(name: str, path: Path) -> Any:
    """A module loaded by path (neither ``tests`` nor ``scripts`` is a package)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_compat = _load_module("channel_suite_openapi_compat", COMPAT_MODULE)
find_breaking_changes: Checker = _compat.find_breaking_changes
find_breaking_event_changes: Checker = _compat.find_breaking_event_changes
asyncapi_document = _load_module(
    "channel_suite_asyncapi_document", SCRIPTS_DIR / "asyncapi_document.py"
)
asyncapi_markdown = _load_module(
    "channel_suite_asyncapi_markdown", SCRIPTS_DIR / "asyncapi_markdown.py"
)


def render(doc: Document) -> str:
    """The canonical, deterministic text of a snapshot."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def openapi_document(service: str) -> Document:
    """The current OpenAPI document of one service (building the app connects nothing)."""
    package = SERVICES[service]
    settings_module = importlib.import_module(f"{package}.settings")
    app_module = importlib.import_module(f"{package}.app")
    app = app_module.create_app(settings_module.Settings(jwt_key=SNAPSHOT_JWT_KEY))
    doc: Document = json.loads(json.dumps(app.openapi()))  # plain JSON types only
    return doc


def current_openapi() -> dict[str, Document]:
    """Service name -> its current OpenAPI document."""
    return {service: openapi_document(service) for service in SERVICES}


def published_events() -> dict[str, type[BaseModel]]:
    """Subject -> model of the event's ``data``, over every service's ``events.PUBLISHED``."""
    events: dict[str, type[BaseModel]] = {}
    owners: dict[str, str] = {}
    for service, package in SERVICES.items():
        try:
            module = importlib.import_module(f"{package}.events")
        except ModuleNotFoundError as exc:
            if exc.name == f"{package}.events":
                continue  # publishes nothing (the gateway has no events module)
            raise
        for subject, model in getattr(module, "PUBLISHED", {}).items():
            if subject in owners:
                raise ValueError(f"{subject} is published by both {owners[subject]} and {service}")
            if not SUBJECT_PATTERN.fullmatch(subject):
                raise ValueError(f"{service}: {subject!r} is not <domain>.<entity>.<verb>.v<N>")
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise TypeError(f"{service}: PUBLISHED[{subject!r}] is not a pydantic model")
            events[subject], owners[subject] = model, service
    return events


def event_schema(subject: str, model: type[BaseModel]) -> Document:
    """The JSON Schema of an event's ``data``, as consumers will read it."""
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:channel-suite:event:{subject}",
        **schema,
        "title": subject,
    }


def current_event_schemas() -> dict[str, Document]:
    """Subject -> the current JSON Schema of its ``data``."""
    return {subject: event_schema(subject, model) for subject, model in published_events().items()}


def _expected(
    openapi: dict[str, Document], events: dict[str, Document]
) -> dict[Path, tuple[Document, Checker]]:
    """Relative snapshot path -> (current document, its compatibility checker)."""
    expected: dict[Path, tuple[Document, Checker]] = {}
    for service, doc in openapi.items():
        expected[Path("openapi", f"{service}.json")] = (doc, find_breaking_changes)
    for subject, schema in events.items():
        expected[Path("events", f"{subject}.json")] = (schema, find_breaking_event_changes)
    return expected


def _existing(contracts_dir: Path) -> set[Path]:
    return {
        path.relative_to(contracts_dir)
        for kind in ("openapi", "events")
        for path in (contracts_dir / kind).glob("*.json")
    }


def _label(relative: Path) -> str:
    return f"contracts/{relative.as_posix()}"


def write_snapshots(
    contracts_dir: Path | None = None,
    openapi: dict[str, Document] | None = None,
    events: dict[str, Document] | None = None,
) -> list[str]:
    """Bring the snapshots up to date; returns what changed (``[]`` when nothing did)."""
    contracts_dir = CONTRACTS_DIR if contracts_dir is None else contracts_dir
    openapi = current_openapi() if openapi is None else openapi
    events = current_event_schemas() if events is None else events
    expected = _expected(openapi, events)
    changes: list[str] = []
    for relative, (doc, _) in sorted(expected.items()):
        path, text = contracts_dir / relative, render(doc)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changes.append(f"{'updated' if path.exists() else 'created'} {_label(relative)}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for relative in sorted(_existing(contracts_dir) - expected.keys()):
        (contracts_dir / relative).unlink()
        changes.append(f"removed {_label(relative)}")
    return changes


def check_snapshots(
    contracts_dir: Path | None = None,
    openapi: dict[str, Document] | None = None,
    events: dict[str, Document] | None = None,
) -> list[str]:
    """Every missing, stale or outdated snapshot and every breaking change; ``[]`` if none."""
    contracts_dir = CONTRACTS_DIR if contracts_dir is None else contracts_dir
    openapi = current_openapi() if openapi is None else openapi
    events = current_event_schemas() if events is None else events
    expected = _expected(openapi, events)
    problems: list[str] = []
    for relative, (doc, checker) in sorted(expected.items()):
        path, label = contracts_dir / relative, _label(relative)
        if not path.exists():
            problems.append(f"{label}: missing")
            continue
        committed_text = path.read_text(encoding="utf-8")
        if committed_text != render(doc):
            problems.append(f"{label}: outdated (differs from the current document)")
        try:
            committed = json.loads(committed_text)
        except json.JSONDecodeError as exc:
            problems.append(f"{label}: not valid JSON ({exc})")
            continue
        problems += [f"{label}: BREAKING: {change}" for change in checker(committed, doc)]
    for relative in sorted(_existing(contracts_dir) - expected.keys()):
        if relative.parts[0] == "events":
            problems.append(f"{_label(relative)}: stale (event no longer published)")
            problems.append(f"{_label(relative)}: BREAKING: its consumers will receive nothing")
        else:
            problems.append(f"{_label(relative)}: stale (not a service)")
    return problems


def current_asyncapi(events: dict[str, Document] | None = None) -> Document:
    """The AsyncAPI document of every subject, with ``events`` as the published payloads."""
    events = current_event_schemas() if events is None else events
    catalogue = asyncapi_document.discover_catalogue()
    document: Document = asyncapi_document.build_document(catalogue=catalogue, event_schemas=events)
    return document


def asyncapi_files(document: Document) -> dict[Path, str]:
    """Path relative to the repository root -> text, for the document and its renderings.

    The document keeps its own key order (``asyncapi`` and ``info`` first, fields in model
    order) rather than the snapshots' sorted keys: it is read by people too.
    """
    text = json.dumps(document, indent=2) + "\n"
    return {
        ASYNCAPI_JSON: text,
        GATEWAY_ASYNCAPI_JSON: text,
        EVENTS_MARKDOWN: asyncapi_markdown.render_markdown(document),
    }


def write_asyncapi(root: Path | None = None, document: Document | None = None) -> list[str]:
    """Bring the AsyncAPI files up to date; returns what changed (``[]`` when nothing did)."""
    root = ROOT if root is None else root
    document = current_asyncapi() if document is None else document
    changes: list[str] = []
    for relative, text in asyncapi_files(document).items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changes.append(f"{'updated' if path.exists() else 'created'} {relative.as_posix()}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return changes


def check_asyncapi(root: Path | None = None, document: Document | None = None) -> list[str]:
    """Every AsyncAPI file that is missing or outdated; ``[]`` if none."""
    root = ROOT if root is None else root
    document = current_asyncapi() if document is None else document
    problems: list[str] = []
    for relative, text in asyncapi_files(document).items():
        path = root / relative
        if not path.exists():
            problems.append(f"{relative.as_posix()}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{relative.as_posix()}: outdated (differs from the current document)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``make contracts``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if anything is out of date"
    )
    args = parser.parse_args(argv)
    openapi, events = current_openapi(), current_event_schemas()
    if args.check:
        problems = check_snapshots(openapi=openapi, events=events)
        problems += check_asyncapi(document=current_asyncapi(events))
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(
                "\nRun `make contracts` to refresh the snapshots and commit them. A BREAKING "
                "change needs a new API version or a new .vN event subject instead.",
                file=sys.stderr,
            )
            return 1
        print("contracts are up to date")
        return 0
    changes = write_snapshots(openapi=openapi, events=events)
    changes += write_asyncapi(document=current_asyncapi(events))
    for change in changes:
        print(change)
    print(f"{len(changes)} contract file(s) changed" if changes else "contracts are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
