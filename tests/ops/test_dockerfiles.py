"""Each service's Dockerfile: multi-stage, pinned bases, only its own workspace member, non-root.

No Docker engine runs here, so the files are read, not built; the install step they run
(`uv sync --frozen --package <svc>` with only that member and channel-common present) is the one
the lock supports (the commands are in the Dockerfiles' comments)."""

from __future__ import annotations

import re

import pytest
from ops_support import PROCESSES, ROOT

PACKAGES = {p: p.replace("-", "_") for p in PROCESSES}


def instructions(process: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "services" / process / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


@pytest.mark.parametrize("process", PROCESSES)
class TestDockerfile:
    def test_is_multi_stage_with_pinned_bases(self, process: str) -> None:
        steps = instructions(process)
        args = dict(a.split("=", 1) for k, a in steps if k == "ARG" and "=" in a)
        stages = [a for k, a in steps if k == "FROM"]
        assert len(stages) >= 3  # uv, builder, runtime
        for stage in stages:
            image = stage.split()[0]
            image = args.get(image.strip("${}"), image)
            assert re.search(r":\d[\w.-]*$", image), f"{process}: unpinned base {image}"
            assert not image.endswith(":latest")

    def test_copies_only_its_own_member_and_the_shared_library(self, process: str) -> None:
        copies = [a.split() for k, a in instructions(process) if k == "COPY" and "--from" not in a]
        sources = [source for parts in copies for source in parts[:-1]]
        members = {s.split("/")[1] for s in sources if s.startswith("services/")}
        assert members == {process}
        assert "libs/common/" in sources
        assert {"pyproject.toml", "uv.lock"} <= set(sources)
        assert not any(s.startswith(("tools/", "services/*", ".")) for s in sources)

    def test_installs_the_locked_package_without_dev_dependencies(self, process: str) -> None:
        runs = " ".join(a for k, a in instructions(process) if k == "RUN")
        assert f"uv sync --frozen --no-dev --no-editable --package {process}" in runs

    def test_runs_as_a_numeric_non_root_user(self, process: str) -> None:
        users = [a for k, a in instructions(process) if k == "USER"]
        assert users, f"{process}: no USER"
        uid = users[-1].split(":")[0]
        assert uid.isdigit() and int(uid) != 0

    def test_serves_the_app_and_carries_its_migrations(self, process: str) -> None:
        steps = instructions(process)
        command = next(a for k, a in reversed(steps) if k == "CMD")
        assert f"{PACKAGES[process]}.app:create_app" in command
        assert "--factory" in command and "--timeout-graceful-shutdown" in command
        assert '"--loop", "uvloop", "--http", "httptools"' in command
        assert "--workers" not in command  # WEB_CONCURRENCY (compose, k8s) says how many
        copies = " ".join(a for k, a in steps if k == "COPY")
        assert f"services/{process}/alembic.ini" in copies
        assert f"services/{process}/migrations/" in copies
        assert any(k == "HEALTHCHECK" and "/livez" in a for k, a in steps)


def test_dockerignore_keeps_local_state_and_tests_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".run", "**/tests", "**/__pycache__"):
        assert entry in ignored
