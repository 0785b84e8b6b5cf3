"""The architecture rules hold on this repository, and each one catches a deliberate breach."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import pytest
from architecture_rules import RULES, Violation, common_violations

ROOT = Path(__file__).resolve().parents[2]
Rule = Callable[[Path], list[Violation]]


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_the_repository_keeps_the_rule(rule: Rule) -> None:
    if violations := rule(ROOT):
        pytest.fail("\n".join(map(str, [inspect.getdoc(rule), *violations])), pytrace=False)


def make_tree(root: Path) -> Path:
    """Two tidy services and channel_common: no rule is broken."""
    (root / "libs/common/src/channel_common").mkdir(parents=True)
    (root / "libs/common/src/channel_common/__init__.py").write_text('"""Infrastructure."""\n')
    for name in ("a", "b"):
        service = root / f"services/{name}-svc"
        for folder in ("migrations", "tests", f"src/{name}_svc"):
            (service / folder).mkdir(parents=True)
        for file in ("pyproject.toml", "Dockerfile", "alembic.ini"):
            (service / file).write_text("")
        for module in ("__init__", "api", "app", "events", "metrics", "models", "repo", "schemas"):
            (service / f"src/{name}_svc/{module}.py").write_text("")
        for module in ("service", "settings"):
            (service / f"src/{name}_svc/{module}.py").write_text("")
    return root


PKG = "services/a-svc/src/a_svc"
BREACHES = [  # rule, file, its source (None: remove the file), the violation expected
    (
        "services never import each other",
        f"{PKG}/service.py",
        "import os\nfrom b_svc.models import Partner\n",
        f"{PKG}/service.py:2: a_svc imports the service package 'b_svc.models' (DESIGN §1)",
    ),
    (
        "channel_common is infrastructure only",
        "libs/common/src/channel_common/_pages.py",
        '"""Pages of rows (a partner\'s, say)."""\n\n\ndef page(tier_rank: int) -> None: ...\n',
        "libs/common/src/channel_common/_pages.py:4: channel_common names the business concept"
        " 'tier' in 'tier_rank' (infrastructure only, DESIGN §2)",
    ),
    (
        "service and repo never commit nor use HTTPException",
        f"{PKG}/repo.py",
        "async def save(session):\n    await session.commit()\n",
        f"{PKG}/repo.py:2: repo commits; its caller commits (STYLE.md 3)",
    ),
    (
        "service and repo never commit nor use HTTPException",
        f"{PKG}/service.py",
        "from fastapi import HTTPException\n",
        f"{PKG}/service.py:1: service uses HTTPException; raise a channel_common error",
    ),
    (
        "routes and consumers run no SQL",
        f"{PKG}/api.py",
        "async def rows(session, table):\n    return await session.scalars(table)\n",
        f"{PKG}/api.py:2: routes run SQL (.scalars()); move it to repo",
    ),
    (
        "routes and consumers run no SQL",
        f"{PKG}/consumers.py",
        "import sqlalchemy as sa\n\nSTATEMENT = sa.delete(object)\n",
        f"{PKG}/consumers.py:3: consumers build SQL (delete()); move it to repo",
    ),
    (
        "every service has the fixed files",
        f"{PKG}/metrics.py",
        None,
        f"{PKG}/metrics.py: a-svc lacks src/a_svc/metrics.py (DESIGN.md §2, issue 21)",
    ),
    (
        "every service has the fixed files",
        f"{PKG}/app.py",
        "create_service_app(subscriptions=[])\n",
        f"{PKG}/consumed.py: a-svc lacks src/a_svc/consumed.py (DESIGN.md §2, issue 21)",
    ),
    (
        "fixed names for fixed roles",
        f"{PKG}/sweeper.py",
        "async def sweep(session):\n    while True:\n        await session.commit()\n",
        f"{PKG}/sweeper.py:3: a commit outside routes, consumers.py, workers.py and app.py"
        " (background loops: workers.py)",
    ),
    (
        "fixed names for fixed roles",
        f"{PKG}/consumers.py",
        "from .schemas import Snapshot\n\n\ndef on(event):\n    Snapshot.model_validate(event)\n",
        f"{PKG}/consumers.py:5: consumers parse an event with Snapshot, not a model of consumed.py",
    ),
]


def test_a_tidy_tree_breaks_no_rule(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    assert {name: rule(root) for name, rule in RULES.items()} == {name: [] for name in RULES}


def test_prose_and_allowed_words_are_not_business_concepts(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    (root / "libs/common/src/channel_common/_auth.py").write_text(
        '"""Verify tokens: a partner portal\'s sees its rebates only."""\n\n'
        'PARTNER_CLAIM = "partner_id"\nlog = "rebate statements: none"\n'
    )
    assert common_violations(root) == []


@pytest.mark.parametrize(("rule", "file", "source", "expected"), BREACHES)
def test_a_breach_is_reported_at_its_file_and_line(
    tmp_path: Path, rule: str, file: str, source: str | None, expected: str
) -> None:
    root = make_tree(tmp_path)
    if source is None:
        (root / file).unlink()
    else:
        (root / file).write_text(source)
    assert expected in [str(violation) for violation in RULES[rule](root)]
