"""docs/operations.md covers what the issue asks of the runbook, with commands that match the
repository."""

from __future__ import annotations

import re

from ops_support import ROOT

RUNBOOK = ROOT / "docs" / "operations.md"
SECTIONS = (
    "Deploying",
    "Scaling a service",
    "Replaying a stream",
    "Rotating the JWT key",
    "Restoring from an outbox after a broker loss",
    "Reading the dashboards",
)


def headings() -> list[str]:
    """The runbook's section titles."""
    return [
        line.lstrip("#").strip()
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("#")
    ]


def test_has_every_section_the_issue_asks_for() -> None:
    assert set(SECTIONS) <= set(headings())


def test_paths_it_mentions_exist() -> None:
    text = RUNBOOK.read_text()
    paths = set(re.findall(r"`((?:deploy|docs|services)/[\w./-]+)`", text))
    assert paths
    for path in paths:
        assert (ROOT / path.rstrip("/")).exists(), path


def test_consumer_names_it_lists_are_the_codes() -> None:
    sources = "".join(p.read_text() for p in (ROOT / "services").glob("*/src/*/consumers.py"))
    text = RUNBOOK.read_text()
    section = text[text.index("Consumer names:") :].split("\n\n")[0]
    names = re.findall(r"`([a-z-]+)`", section)
    assert len(names) == 7
    for name in names:
        assert f'"{name}"' in sources, name
