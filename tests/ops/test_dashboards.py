"""The committed Grafana dashboards and their provisioning are well formed."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from ops_support import DASHBOARDS, ROOT, load_dashboards

PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
REQUIRED_TOPICS = {
    "channel-suite-overview": [
        "Request rate",
        "Error ratio",
        "p95 latency",
        "p99 latency",
        "Events published",
        "Events consumed",
        "Outbox backlog",
        "redeliveries",
        "Dead letters",
    ],
    "channel-business": [
        "Observations ingested",
        "Observations rejected",
        "accrued",
        "approved",
        "Alerts firing by severity",
        "Webhook deliveries",
    ],
}


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict[str, Any]]:
    """The committed dashboards by file name."""
    return load_dashboards()


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels of a dashboard that are not rows."""
    return [p for p in dashboard["panels"] if p["type"] != "row"]


class TestDashboards:
    def test_both_dashboards_exist_with_unique_uids(
        self, dashboards: dict[str, dict[str, Any]]
    ) -> None:
        uids = [d["uid"] for d in dashboards.values()]
        assert sorted(uids) == sorted(REQUIRED_TOPICS)

    def test_each_dashboard_covers_the_issue_topics(
        self, dashboards: dict[str, dict[str, Any]]
    ) -> None:
        for dashboard in dashboards.values():
            titles = " | ".join(p["title"] for p in panels(dashboard))
            for topic in REQUIRED_TOPICS[dashboard["uid"]]:
                assert topic in titles, f"{dashboard['uid']} has no panel about {topic!r}"

    def test_panels_have_unique_ids_titles_descriptions_and_queries(
        self, dashboards: dict[str, dict[str, Any]]
    ) -> None:
        for dashboard in dashboards.values():
            ids = [p["id"] for p in dashboard["panels"]]
            assert len(ids) == len(set(ids)), dashboard["uid"]
            for panel in panels(dashboard):
                assert panel["title"] and panel["description"], panel["id"]
                assert panel["targets"], panel["title"]
                for target in panel["targets"]:
                    assert target["expr"].strip(), panel["title"]
                    assert target["datasource"]["uid"] == "${datasource}", panel["title"]

    def test_panels_fit_the_24_column_grid(self, dashboards: dict[str, dict[str, Any]]) -> None:
        for dashboard in dashboards.values():
            for panel in dashboard["panels"]:
                grid = panel["gridPos"]
                assert grid["x"] + grid["w"] <= 24, panel["title"]

    def test_template_variables_used_in_queries_are_defined(
        self, dashboards: dict[str, dict[str, Any]]
    ) -> None:
        builtin = {"__rate_interval", "__range", "__interval"}
        for dashboard in dashboards.values():
            defined = {v["name"] for v in dashboard["templating"]["list"]}
            assert "datasource" in defined
            for panel in panels(dashboard):
                for target in panel["targets"]:
                    used = set(_variables(target["expr"]))
                    assert used <= defined | builtin, f"{panel['title']}: {used - defined}"

    def test_rates_use_grafanas_rate_interval_or_the_range(
        self, dashboards: dict[str, dict[str, Any]]
    ) -> None:
        for dashboard in dashboards.values():
            for panel in panels(dashboard):
                for target in panel["targets"]:
                    expr = target["expr"]
                    if "rate(" in expr or "increase(" in expr:
                        assert "[$__rate_interval]" in expr or "[$__range]" in expr, expr


def _variables(expr: str) -> list[str]:
    """The template variables a query mentions."""
    return re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", expr)


class TestProvisioning:
    def test_datasource_uid_matches_the_dashboards_default(self) -> None:
        config = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
        (source,) = config["datasources"]
        assert source["type"] == "prometheus"
        assert source["url"] == "http://prometheus:9090"

    def test_dashboard_provider_loads_the_folder_compose_mounts(self) -> None:
        config = yaml.safe_load((PROVISIONING / "dashboards" / "channel-suite.yml").read_text())
        (provider,) = config["providers"]
        assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        volumes = compose["services"]["grafana"]["volumes"]
        assert f"./{DASHBOARDS.relative_to(ROOT)}:/var/lib/grafana/dashboards:ro" in volumes
