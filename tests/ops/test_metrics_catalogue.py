"""docs/metrics.md matches the metrics the code declares, and the dashboards and rules use only
catalogued metrics and labels (the live scrape is in test_live_suite.py)."""

from __future__ import annotations

import pytest
from ops_support import (
    PROCESSES,
    TARGET_LABELS,
    Metric,
    declared_metrics,
    grouping_labels,
    load_catalogue,
    load_rules,
    panel_queries,
    queryable,
    rule_queries,
    selector_labels,
    series_names,
    usages,
)

# prometheus-client's default process and GC collectors: not declared in our code.
DEFAULT_COLLECTORS = {
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_start_time_seconds",
    "process_open_fds",
    "process_max_fds",
    "python_gc_objects_collected_total",
    "python_gc_objects_uncollectable_total",
    "python_gc_collections_total",
    "python_info",
}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Metric]:
    """docs/metrics.md's table."""
    return load_catalogue()


def recorded_series() -> set[str]:
    """The series the recording rules produce."""
    return {rule["record"] for rule in load_rules() if "record" in rule}


class TestCatalogueMatchesCode:
    def test_every_declared_metric_is_catalogued_with_its_type_and_labels(
        self, catalogue: dict[str, Metric]
    ) -> None:
        declared = declared_metrics()
        assert len(declared) >= 20  # the AST scan found the code's metrics
        for name, metric in declared.items():
            assert name in catalogue, f"{name} is exposed but not in docs/metrics.md"
            assert catalogue[name].type == metric.type, name
            assert catalogue[name].labels == metric.labels, name

    def test_every_catalogued_metric_exists(self, catalogue: dict[str, Metric]) -> None:
        stale = set(catalogue) - set(declared_metrics()) - DEFAULT_COLLECTORS
        assert not stale, f"catalogued but not declared anywhere: {sorted(stale)}"

    def test_rows_name_known_processes(self, catalogue: dict[str, Metric]) -> None:
        for metric in catalogue.values():
            assert metric.processes, metric.name
            assert set(metric.processes) <= set(PROCESSES), metric.name

    def test_no_metric_is_labelled_by_an_id_or_a_raw_path(
        self, catalogue: dict[str, Metric]
    ) -> None:
        # Programs are few and long-lived, so a program label would be fine; partners are not.
        forbidden = {"partner_id", "partner", "path", "url", "id", "user", "principal"}
        for metric in catalogue.values():
            assert not metric.labels & forbidden, metric.name


class TestQueriesUseCataloguedMetrics:
    def test_every_panel_reads_only_catalogued_series(self, catalogue: dict[str, Metric]) -> None:
        allowed = queryable(catalogue)
        queries = list(panel_queries())
        assert len(queries) >= 30
        for query in queries:
            names = series_names(query.expr)
            assert names, f"{query.usage}: no metric found in {query.expr!r}"
            unknown = names - set(allowed)
            assert not unknown, f"{query.usage}: {sorted(unknown)} not in docs/metrics.md"

    def test_every_rule_reads_catalogued_or_recorded_series(
        self, catalogue: dict[str, Metric]
    ) -> None:
        allowed = set(queryable(catalogue)) | recorded_series()
        for usage, expr in rule_queries():
            unknown = series_names(expr) - allowed
            assert not unknown, f"{usage}: {sorted(unknown)} is neither catalogued nor recorded"

    def test_label_matchers_and_groupings_use_labels_the_metrics_have(
        self, catalogue: dict[str, Metric]
    ) -> None:
        allowed = queryable(catalogue)
        recorded = {name: TARGET_LABELS | {"le"} for name in recorded_series()}
        entries = [(q.usage, q.expr) for q in panel_queries()] + list(rule_queries())
        for usage, expr in entries:
            known = {**allowed, **recorded}
            for name, labels in selector_labels(expr):
                assert name in known, f"{usage}: selector without a catalogued metric"
                assert labels <= known[name], f"{usage}: {name} has no {labels - known[name]}"
            in_reach = set().union(*(known[name] for name in series_names(expr)))
            unknown = grouping_labels(expr) - in_reach
            assert not unknown, f"{usage}: groups by {sorted(unknown)}, which no metric has"

    def test_used_by_column_lists_exactly_the_panels_and_rules(
        self, catalogue: dict[str, Metric]
    ) -> None:
        found = usages()
        for metric in catalogue.values():
            expected: list[str] = []
            for name in metric.query_names():
                expected += [use for use in found.get(name, []) if use not in expected]
            assert list(metric.used_by) == expected, f"used-by column of {metric.name}"

    def test_the_query_reader_finds_names_and_skips_functions_and_strings(self) -> None:
        expr = (
            'sum by (job, le) (rate(a_bucket{job=~"$job", route!~"/x|b_total"}[5m])) '
            "/ on (job) group_left b_total offset 5m > bool 0.5"
        )
        assert series_names(expr) == {"a_bucket", "b_total"}
        assert grouping_labels(expr) == {"job", "le"}
        assert selector_labels(expr) == [("a_bucket", {"job", "route"})]
