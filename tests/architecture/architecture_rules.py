"""The architecture rules of DESIGN.md §1-§2, STYLE.md and issue 21, read from the code's AST.

Each `*_violations(root)` takes a repository root and returns what breaks its rule. Nothing here
imports the services, so the rules run on any tree: the real one or a test's tmp_path.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Business nouns that must not name anything in channel_common (matched on identifier words).
BUSINESS_WORDS = frozenset(
    {"partner", "rebate", "kpi", "alert", "tier", "program", "accrual", "statement", "basis"}
    | {"observation", "territory", "territories", "scorecard", "webhook", "silence", "fund"}
    | {"distributor", "reseller", "retailer", "region", "sales"}
)
# A module of channel_common -> the business words it may name, and why.
ALLOWED_WORDS = {
    "_auth.py": ({"partner"}, "the partner_id claim binds a principal (DESIGN §2, §8)"),
    "__init__.py": ({"partner"}, "re-exports the partner binding of _auth.py"),
    "testing.py": ({"partner"}, "test tokens carry the partner_id claim"),
    "_bus.py": ({"partner", "kpi", "rebate", "alert"}, "the streams of DESIGN §4, one a service"),
    "_consumer.py": ({"statement"}, "an SQL statement (the inbox insert), not a rebate one"),
}
NOT_EVENT_DRIVEN = {"gateway"}  # DESIGN §1: thin, publishes and consumes no events
SERVICE_FILES = ("pyproject.toml", "Dockerfile", "alembic.ini", "migrations/", "tests/")
PACKAGE_FILES = ("app.py", "api", "schemas.py", "models.py", "repo", "service", "settings.py")
SQL_CALLS = frozenset({"select", "insert", "update", "delete", "text"})
SQL_IMPORTS = SQL_CALLS | {"func", "and_", "or_", "not_", "case", "exists", "literal", "col"}
SESSION_QUERIES = frozenset({"execute", "exec", "scalars", "scalar"})
METRIC_TYPES = frozenset({"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"})
# The unit-of-work owners: routes, consumers, background loops, startup.
COMMITTERS = ("api", "api.py", "consumers.py", "workers.py", "app.py")


@dataclass(frozen=True)
class Violation:
    """One breach of a rule, at a file and line relative to the repository root."""

    path: str
    line: int  # 0 for a missing file
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Module:
    """A parsed module; `parts` is its path inside its package, `role` the first part."""

    path: str
    parts: tuple[str, ...]
    tree: ast.Module

    @property
    def role(self) -> str:  # `service` for service.py and service/…
        return self.parts[0].removesuffix(".py")

    def at(self, node: ast.AST, message: str) -> Violation:
        return Violation(self.path, getattr(node, "lineno", 1), message)


def service_packages(root: Path) -> dict[Path, str]:
    """Every service folder and its import package (`services/kpi-svc` -> `kpi_svc`)."""
    return {i.parents[2]: i.parent.name for i in sorted(root.glob("services/*/src/*/__init__.py"))}


def modules(root: Path, package: Path) -> Iterator[Module]:
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        yield Module(path.relative_to(root).as_posix(), path.relative_to(package).parts, tree)


def service_modules(root: Path) -> Iterator[tuple[str, Module]]:
    for folder, package in service_packages(root).items():
        for module in modules(root, folder / "src" / package):
            yield package, module


def imported(node: ast.AST) -> list[str]:
    """The absolute modules an import statement names (relative imports stay inside)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def names_from(tree: ast.Module, prefix: str, level: int = 0) -> dict[str, ast.ImportFrom]:
    """The names imported `from <prefix…> import name`, each to its import statement."""
    return {
        alias.asname or alias.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.level == level
        and (node.module or "").startswith(prefix)
        for alias in node.names
    }


def calls(tree: ast.Module) -> Iterator[tuple[ast.Call, str]]:
    """Every call and the name it ends in: `select` for `select(…)` and `sa.select(…)`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            yield node, node.func.id if isinstance(node.func, ast.Name) else node.func.attr


def cross_service_import_violations(root: Path) -> list[Violation]:
    """Rule 1: a service never imports another service's package."""
    packages = set(service_packages(root).values())
    return [
        module.at(node, f"{own} imports the service package {name!r} (DESIGN §1)")
        for own, module in service_modules(root)
        for node in ast.walk(module.tree)
        for name in imported(node)
        if name.split(".")[0] in packages - {own}
    ]


def identifiers(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """Names, attributes, definitions, arguments, keywords, imports and identifier-like
    strings (`"partner_id"`, `"kpi.>"`); not docstrings or other prose."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node, node.id
        elif isinstance(node, ast.Attribute):
            yield node, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node, node.name
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            yield node, node.arg
        elif isinstance(node, ast.alias):
            yield node, node.asname or node.name
        elif isinstance(node, ast.Constant) and re.fullmatch(r"[\w.>*-]{1,64}", str(node.value)):
            yield node, str(node.value)  # a one-word string; prose and docstrings are not


def common_violations(root: Path) -> list[Violation]:
    """Rule 2: channel_common imports no service and names no business concept."""
    packages = set(service_packages(root).values())
    found = []
    for module in modules(root, root / "libs/common/src/channel_common"):
        allowed = ALLOWED_WORDS.get(module.parts[-1], (set(), ""))[0]
        for node in ast.walk(module.tree):
            found += [
                module.at(node, f"channel_common imports the service package {name!r}")
                for name in imported(node)
                if name.split(".")[0] in packages
            ]
        for node, name in identifiers(module.tree):
            words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)
            for word in sorted(BUSINESS_WORDS.intersection(w.lower() for w in words) - allowed):
                message = f"channel_common names the business concept {word!r} in {name!r}"
                found.append(module.at(node, message + " (infrastructure only, DESIGN §2)"))
    return found


def service_layer_violations(root: Path) -> list[Violation]:
    """Rule 3: `service` and `repo` never commit and never raise or name HTTPException."""
    found = []
    for _, module in service_modules(root):
        if module.role not in ("service", "repo"):
            continue
        found += [
            module.at(node, f"{module.role} commits; its caller commits (STYLE.md 3)")
            for node, name in calls(module.tree)
            if name == "commit"
        ]
        found += [
            module.at(node, f"{module.role} uses HTTPException; raise a channel_common error")
            for node, name in identifiers(module.tree)
            if "HTTPException" in name and not isinstance(node, ast.Constant)
        ]
    return found


def entrypoint_sql_violations(root: Path) -> list[Violation]:
    """Rule 4: routes and consumers run no SQL; repo does."""
    found = []
    for _, module in service_modules(root):
        if module.role != "api" and module.parts != ("consumers.py",):
            continue
        where = "routes" if module.role == "api" else "consumers"
        sql = {**names_from(module.tree, "sqlalchemy"), **names_from(module.tree, "sqlmodel")}
        found += [
            module.at(node, f"{where} import the SQL construct {name!r}; move the query to repo")
            for name, node in sql.items()
            if name in SQL_IMPORTS
        ]
        aliases = {  # `import sqlalchemy as sa` -> sa
            alias.asname or alias.name
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name.startswith(("sqlalchemy", "sqlmodel"))
        }
        for node, name in calls(module.tree):
            on = getattr(node.func, "value", None)
            if name in SESSION_QUERIES and on is not None:
                found.append(module.at(node, f"{where} run SQL (.{name}()); move it to repo"))
            elif name in SQL_CALLS and (name in sql if on is None else ast.unparse(on) in aliases):
                found.append(module.at(node, f"{where} build SQL ({name}()); move it to repo"))
    return found


def fixed_files_violations(root: Path) -> list[Violation]:
    """Rule 5: every service has the fixed files of DESIGN.md §2 and issue 21."""
    found = []
    for folder, package in service_packages(root).items():
        src, pkg = folder / "src" / package, f"src/{package}/"
        app = (src / "app.py").read_text(encoding="utf-8") if (src / "app.py").exists() else ""
        keywords = {node.arg for node in ast.walk(ast.parse(app)) if isinstance(node, ast.keyword)}
        wanted = [*SERVICE_FILES, *(pkg + name for name in (*PACKAGE_FILES, "metrics.py"))]
        if folder.name not in NOT_EVENT_DRIVEN:
            wanted.append(pkg + "events.py")
        if "subscriptions" in keywords or (src / "consumers.py").exists():  # it consumes events
            wanted += [pkg + "consumers.py", pkg + "consumed.py"]
        for name in wanted:
            path = folder / name.rstrip("/")
            if name.endswith("/"):
                present = path.is_dir()
            elif name.endswith(".py") or not name.startswith("src/"):
                present = path.is_file()
            else:  # api, repo, service: a module or a package of modules
                present = path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
            if not present:
                message = f"{folder.name} lacks {name} (DESIGN.md §2, issue 21)"
                found.append(Violation(path.relative_to(root).as_posix(), 0, message))
    return found


def fixed_roles_violations(root: Path) -> list[Violation]:
    """Rule 6: metrics are defined in metrics.py; commits happen in routes, consumers.py,
    workers.py or app.py (a background loop that commits lives in workers.py); consumers
    parse events with the models of consumed.py."""
    found = []
    for _, module in service_modules(root):
        metrics = set(names_from(module.tree, "prometheus_client")) & METRIC_TYPES
        consumed = set(names_from(module.tree, "consumed", level=1))
        for node, name in calls(module.tree):
            if name in metrics and module.parts != ("metrics.py",):
                found.append(module.at(node, f"a metric ({name}) defined outside metrics.py"))
            elif name == "commit" and module.parts[0] not in COMMITTERS:
                if module.role not in ("service", "repo"):  # rule 3 reports those
                    message = "a commit outside routes, consumers.py, workers.py and app.py"
                    found.append(module.at(node, message + " (background loops: workers.py)"))
            elif name.startswith("model_validate") and module.parts == ("consumers.py",):
                model = ast.unparse(getattr(node.func, "value", node.func))
                if model not in consumed:
                    message = f"consumers parse an event with {model}, not a model of consumed.py"
                    found.append(module.at(node, message))
    return found


RULES = {
    "services never import each other": cross_service_import_violations,
    "channel_common is infrastructure only": common_violations,
    "service and repo never commit nor use HTTPException": service_layer_violations,
    "routes and consumers run no SQL": entrypoint_sql_violations,
    "every service has the fixed files": fixed_files_violations,
    "fixed names for fixed roles": fixed_roles_violations,
}
