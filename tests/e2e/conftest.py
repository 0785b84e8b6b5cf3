"""Fixtures of the end-to-end story: the suite as processes, a webhook receiver, and the
processes' logs shown when a step fails."""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(HERE))

from e2e_receiver import running_receiver  # noqa: E402
from e2e_story import STORY_TODAY, Story  # noqa: E402
from suite import ALL_SERVICES, Suite, SuiteOptions, server_url_from_env  # noqa: E402

# Settings the story needs from the processes:
# - the webhook receiver listens on loopback, which alert-svc refuses unless allowed;
# - rebate-svc's "today" is pinned to the last day of 2025-Q4, so the live accruals of that
#   quarter are open and fully elapsed (their projection equals the figure itself).
STORY_ENV = {
    "ALERT_ALLOW_LOOPBACK_WEBHOOKS": "true",
    "REBATE_FIXED_TODAY": STORY_TODAY,
}


@pytest.fixture(scope="module")
def story() -> Iterator[Story]:
    """The suite (SQLite, or PostgreSQL with TEST_DATABASE_URL) and a receiver, for a module."""
    options = SuiteOptions(server_url=server_url_from_env(), extra_env=STORY_ENV)
    with running_receiver() as receiver, Suite(options) as suite:
        yield Story(suite=suite, receiver=receiver)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test's call failed, for the log dump below."""
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """When a step of the story fails, print the end of every process's log (pytest shows it
    with the failure)."""
    yield
    if request.node.stash.get(_FAILED, False) and "story" in request.fixturenames:
        story: Story = request.getfixturevalue("story")
        for name in ALL_SERVICES:
            print(f"----- {name} -----\n{story.suite.tail(name, lines=40)}")
