"""What the operations tests share: the metrics catalogue, the metrics the code declares, the
dashboards and alert rules, and a small reader of the PromQL they contain."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "metrics.md"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules" / "channel-suite.rules.yml"
PROCESSES = ("partner-svc", "kpi-svc", "rebate-svc", "alert-svc", "gateway")
# Series Prometheus makes itself, and labels it adds to every scraped series.
SYNTHETIC: dict[str, frozenset[str]] = {"up": frozenset()}
TARGET_LABELS = frozenset({"job", "instance"})
_SOURCES = (ROOT / "libs" / "common" / "src", *sorted((ROOT / "services").glob("*/src")))
_METRIC_CLASSES = {"Counter": "counter", "Gauge": "gauge", "Histogram": "histogram"}
_KEYWORDS = frozenset(
    [
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "inf",
        "nan",
    ]
)
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}')
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")


@dataclass(frozen=True)
class Metric:
    """One catalogue row (or one metric declared in the code)."""

    name: str  # as queried: counters end in `_total`; a histogram is its base name
    type: str
    labels: frozenset[str]
    processes: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()

    def query_names(self) -> dict[str, frozenset[str]]:
        """The series names a query may use for this metric, each with its allowed labels."""
        if self.type != "histogram":
            return {self.name: self.labels}
        return {
            f"{self.name}_bucket": self.labels | {"le"},
            f"{self.name}_sum": self.labels,
            f"{self.name}_count": self.labels,
        }


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _names_in(cell: str) -> frozenset[str]:
    return frozenset(re.findall(r"`([^`]+)`", cell))


def load_catalogue() -> dict[str, Metric]:
    """The rows of docs/metrics.md's table, by metric name."""
    rows: dict[str, Metric] = {}
    lines = CATALOGUE.read_text(encoding="utf-8").splitlines()
    start = lines.index("| metric | type | labels | processes | meaning | used by |")
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, kind, labels, processes, _meaning, used_by = _cells(line)
        metric_name = name.strip("`")
        assert metric_name not in rows, f"{metric_name} is catalogued twice"
        rows[metric_name] = Metric(
            name=metric_name,
            type=kind,
            labels=_names_in(labels),
            processes=PROCESSES if processes == "all" else tuple(processes.split(", ")),
            used_by=() if used_by == "—" else tuple(used_by.split("; ")),
        )
    return rows


def declared_metrics() -> dict[str, Metric]:
    """Every Counter/Gauge/Histogram the code of libs/common and services/* declares."""
    found: dict[str, Metric] = {}
    for source in _SOURCES:
        for path in sorted(source.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                metric = _declared(node)
                if metric is not None:
                    found[metric.name] = metric
    return found


def _declared(node: ast.AST) -> Metric | None:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    kind = _METRIC_CLASSES.get(node.func.id)
    if kind is None or not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    name = str(node.args[0].value)
    label_node = node.args[2] if len(node.args) > 2 else None
    for keyword in node.keywords:
        if keyword.arg == "labelnames":
            label_node = keyword.value
    labels = ast.literal_eval(label_node) if label_node is not None else ()
    if kind == "counter" and not name.endswith("_total"):
        name += "_total"
    return Metric(name=name, type=kind, labels=frozenset(labels))


def load_dashboards() -> dict[str, dict[str, Any]]:
    """The committed dashboards by file name."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def load_rules() -> list[dict[str, Any]]:
    """Every recording and alerting rule of the rules file."""
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


@dataclass(frozen=True)
class PanelQuery:
    """One query of one dashboard panel."""

    dashboard: str  # the short title: "Suite overview"
    panel: str
    expr: str

    @property
    def usage(self) -> str:
        """How the catalogue's *used by* column names this panel."""
        return f"{self.dashboard}: {self.panel}"


def panel_queries() -> Iterator[PanelQuery]:
    """Every query of every panel of every dashboard."""
    for dashboard in load_dashboards().values():
        short = dashboard["title"].split(" / ")[-1]
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                yield PanelQuery(short, panel["title"], target["expr"])


def rule_queries() -> Iterator[tuple[str, str]]:
    """(usage as the catalogue writes it, expression) of every rule."""
    for rule in load_rules():
        yield f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]


def series_names(expr: str) -> set[str]:
    """The metric (or recorded series) names a PromQL expression reads."""
    text = _SELECTOR.sub(lambda m: f" {m.group(1) or ''} ", expr)
    text = _STRING.sub(" ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\b\d+(?:ms|s|m|h|d|w|y)\b", " ", text)  # durations (offset 5m)
    text = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?\b", " ", text)
    names = set()
    for match in _IDENT.finditer(text):
        rest = text[match.end() :].lstrip()
        if match.group() not in _KEYWORDS and not rest.startswith("("):
            names.add(match.group())
    return names


def selector_labels(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, label names matched) of every vector selector with matchers."""
    return [
        (match.group(1) or "", set(_MATCHER.findall(match.group(2))))
        for match in _SELECTOR.finditer(expr)
    ]


def grouping_labels(expr: str) -> set[str]:
    """The label names of every by/without/on/ignoring/group_* clause."""
    labels: set[str] = set()
    for match in _GROUPING.finditer(expr):
        labels |= {name.strip() for name in match.group(2).split(",") if name.strip()}
    return labels


def queryable(catalogue: dict[str, Metric]) -> dict[str, frozenset[str]]:
    """Every series name a query may read, with the labels it may match on."""
    names: dict[str, frozenset[str]] = dict(SYNTHETIC)
    for metric in catalogue.values():
        names.update(metric.query_names())
    return {name: labels | TARGET_LABELS for name, labels in names.items()}


def usages() -> dict[str, list[str]]:
    """Per series name, the panels and rules that read it (in file order, no repeats)."""
    found: dict[str, list[str]] = {}
    entries = [(q.usage, q.expr) for q in panel_queries()] + list(rule_queries())
    for usage, expr in entries:
        for name in sorted(series_names(expr)):
            if usage not in found.setdefault(name, []):
                found[name].append(usage)
    return found
