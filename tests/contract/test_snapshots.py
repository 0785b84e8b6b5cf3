"""The committed contracts (contracts/) are current and backward compatible.

Fix a failure with `make contracts` (then commit contracts/). A BREAKING change must not be
"fixed" that way: it needs a new API version or a new `.vN` event subject.
"""

import difflib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import contracts

ROOT = Path(__file__).resolve().parents[2]


SERVICES = list(contracts.SERVICES)
FIX = "run `make contracts` and commit contracts/"


def _excerpt(committed: str, current: str, name: str, limit: int = 40) -> str:
    diff = difflib.unified_diff(
        committed.splitlines(), current.splitlines(), f"committed {name}", f"current {name}", n=2
    )
    lines = [line.rstrip("\n") for line in itertools.islice(diff, limit + 1)]
    return "\n".join(lines[:limit] + (["..."] if len(lines) > limit else []))


def _committed_events() -> dict[str, Path]:
    return {path.stem: path for path in (contracts.CONTRACTS_DIR / "events").glob("*.json")}


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_snapshot_is_current(service: str) -> None:
    path = contracts.CONTRACTS_DIR / "openapi" / f"{service}.json"
    assert path.is_file(), f"contracts/openapi/{service}.json is missing: {FIX}"
    committed = path.read_text(encoding="utf-8")
    current = contracts.render(contracts.openapi_document(service))

    up_to_date = committed == current
    assert up_to_date, f"contracts/openapi/{service}.json is outdated: {FIX}\n" + _excerpt(
        committed, current, f"{service}.json"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_is_backward_compatible(service: str) -> None:
    path = contracts.CONTRACTS_DIR / "openapi" / f"{service}.json"
    assert path.is_file(), f"contracts/openapi/{service}.json is missing: {FIX}"
    committed = json.loads(path.read_text(encoding="utf-8"))

    breaking = contracts.find_breaking_changes(committed, contracts.openapi_document(service))

    assert breaking == [], f"{service}: changes that break its clients:\n" + "\n".join(breaking)


def test_event_snapshots_are_current() -> None:
    current = contracts.current_event_schemas()
    committed = _committed_events()
    problems = [f"{s}: missing" for s in sorted(current.keys() - committed.keys())]
    problems += [f"{s}: stale" for s in sorted(committed.keys() - current.keys())]
    for subject in sorted(current.keys() & committed.keys()):
        text, expected = (
            committed[subject].read_text(encoding="utf-8"),
            contracts.render(current[subject]),
        )
        if text != expected:
            problems.append(f"{subject}: outdated\n" + _excerpt(text, expected, subject, 20))

    assert problems == [], f"contracts/events/ is not current: {FIX}\n" + "\n".join(problems)


def test_events_are_backward_compatible() -> None:
    current = contracts.current_event_schemas()
    breaking: list[str] = []
    for subject, path in sorted(_committed_events().items()):
        if subject not in current:
            breaking.append(f"{subject}: no longer published")
            continue
        committed = json.loads(path.read_text(encoding="utf-8"))
        changes = contracts.find_breaking_event_changes(committed, current[subject])
        breaking += [f"{subject}: {change}" for change in changes]

    assert breaking == [], "changes that break event consumers (publish a new .vN subject):\n" + (
        "\n".join(breaking)
    )


# --- the generator itself, on synthetic documents (no service needed) ---


class TierChanged(BaseModel):
    """A partner moved to another tier."""

    partner_id: str
    tier: str
    previous: str | None = None


def _api(*paths: str) -> dict[str, Any]:
    ok = {"200": {"description": "OK"}}
    return {"openapi": "3.1.0", "paths": {path: {"get": {"responses": ok}} for path in paths}}


class TestContractsScript:
    def test_render_is_canonical(self) -> None:
        assert contracts.render({"b": 1, "a": [True, None]}) == (
            '{\n  "a": [\n    true,\n    null\n  ],\n  "b": 1\n}\n'
        )

    def test_event_schema_is_the_serialized_data_model_with_id_and_title(self) -> None:
        schema = contracts.event_schema("partner.tier.changed.v1", TierChanged)

        assert schema["$id"] == "urn:channel-suite:event:partner.tier.changed.v1"
        assert schema["title"] == "partner.tier.changed.v1"
        assert schema["description"] == "A partner moved to another tier."
        assert schema["required"] == ["partner_id", "tier"]
        assert set(schema["properties"]) == {"partner_id", "tier", "previous"}

    def test_write_then_check(self, tmp_path: Path) -> None:
        schema = contracts.event_schema("partner.tier.changed.v1", TierChanged)
        openapi, events = {"svc": _api("/a")}, {"partner.tier.changed.v1": schema}

        assert contracts.write_snapshots(tmp_path, openapi, events) == [
            "created contracts/events/partner.tier.changed.v1.json",
            "created contracts/openapi/svc.json",
        ]
        assert (tmp_path / "openapi" / "svc.json").read_text() == contracts.render(openapi["svc"])
        assert contracts.check_snapshots(tmp_path, openapi, events) == []
        assert contracts.write_snapshots(tmp_path, openapi, events) == []

    def test_check_reports_missing_outdated_breaking_and_stale_files(self, tmp_path: Path) -> None:
        schema = contracts.event_schema("partner.tier.changed.v1", TierChanged)
        contracts.write_snapshots(
            tmp_path, {"svc": _api("/a", "/b")}, {"old.thing.done.v1": schema}
        )

        problems = contracts.check_snapshots(
            tmp_path, {"svc": _api("/a"), "other": _api()}, {"partner.tier.changed.v1": schema}
        )

        assert problems == [
            "contracts/events/partner.tier.changed.v1.json: missing",
            "contracts/openapi/other.json: missing",
            "contracts/openapi/svc.json: outdated (differs from the current document)",
            "contracts/openapi/svc.json: BREAKING: GET /b: path removed",
            "contracts/events/old.thing.done.v1.json: stale (event no longer published)",
            "contracts/events/old.thing.done.v1.json: BREAKING: its consumers will receive nothing",
        ]

    def test_write_removes_stale_event_schemas(self, tmp_path: Path) -> None:
        schema = contracts.event_schema("old.thing.done.v1", TierChanged)
        contracts.write_snapshots(tmp_path, {"svc": _api()}, {"old.thing.done.v1": schema})

        changes = contracts.write_snapshots(tmp_path, {"svc": _api()}, {})

        assert changes == ["removed contracts/events/old.thing.done.v1.json"]
        assert list((tmp_path / "events").iterdir()) == []

    def test_cli_check_fails_until_written(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setattr(contracts, "CONTRACTS_DIR", tmp_path)
        monkeypatch.setattr(contracts, "current_openapi", lambda: {"svc": _api("/a")})
        monkeypatch.setattr(contracts, "current_event_schemas", dict)
        # The AsyncAPI files have tests of their own (test_asyncapi.py).
        monkeypatch.setattr(contracts, "current_asyncapi", lambda events: {})
        monkeypatch.setattr(contracts, "check_asyncapi", lambda document: [])
        monkeypatch.setattr(contracts, "write_asyncapi", lambda document: [])

        assert contracts.main(["--check"]) == 1
        assert "contracts/openapi/svc.json: missing" in capsys.readouterr().err
        assert contracts.main([]) == 0
        assert list(tmp_path.rglob("*.json")) == [tmp_path / "openapi" / "svc.json"]
        assert contracts.main(["--check"]) == 0

    def test_published_events_tolerates_a_service_without_events(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for package, events in [("cs_fake_quiet", None), ("cs_fake_loud", "fake.thing.done.v1")]:
            (tmp_path / package).mkdir()
            (tmp_path / package / "__init__.py").write_text("")
            if events:
                (tmp_path / package / "events.py").write_text(
                    "from pydantic import BaseModel\n\n\nclass Done(BaseModel):\n    id: str\n\n\n"
                    f"PUBLISHED = {{{events!r}: Done}}\n"
                )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setattr(
            contracts, "SERVICES", {"quiet": "cs_fake_quiet", "loud": "cs_fake_loud"}
        )

        published = contracts.published_events()

        assert list(published) == ["fake.thing.done.v1"]
        assert published["fake.thing.done.v1"].__name__ == "Done"
