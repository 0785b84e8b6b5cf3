"""The proof on a running suite: every process exposes exactly its catalogued metrics with
clean labels, and every dashboard panel's query returns data from a real Prometheus.

One suite (scripts/suite.py: nats-server, four services and the gateway, on SQLite or on the
PostgreSQL of TEST_DATABASE_URL) and one Prometheus (scraping every second, with the committed
alert rules loaded) serve the module."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live_support import (
    JOBS,
    LIVE_ENV,
    Prometheus,
    WebhookReceiver,
    Workload,
    as_promql,
    drive,
    scrape_all,
    wait_until,
)
from ops_support import ROOT, load_catalogue, panel_queries
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(ROOT / "scripts"))
from suite import Suite, SuiteOptions

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# Panels allowed to be empty after the workload, each with the reason. Keep it short.
EMPTY_ALLOWED: dict[str, str] = {}


@dataclass
class Live:
    """The running suite, its Prometheus, what the workload did, and the final scrapes."""

    suite: Suite
    prometheus: Prometheus
    work: Workload
    scrapes: dict[str, str]


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """Start the suite and Prometheus, drive the workload, wait for the scrapes."""
    with (
        tempfile.TemporaryDirectory(prefix="channel-ops-") as temp,
        Suite(SuiteOptions(server_url=_server_url(), extra_env=LIVE_ENV)) as suite,
        Prometheus(Path(temp), {JOBS[n]: p for n, p in suite.ports.items()}) as prometheus,
        WebhookReceiver() as receiver,
        httpx.Client(
            base_url=suite.gateway_url, headers=suite.admin_headers, timeout=30, trust_env=False
        ) as gateway,
    ):
        assert suite.nats is not None
        work = drive(gateway, suite.nats.url, receiver)
        wait_until(
            lambda: (
                len(prometheus.query("channel_consumer_dead_letters_total > 0")) == 3
                and bool(prometheus.query('channel_webhook_deliveries_total{result="delivered"}'))
                and bool(prometheus.query("channel_alerts_firing > 0"))
            ),
            timeout=60,
            what="Prometheus to scrape the workload's dead letters, deliveries and alerts",
        )
        time.sleep(3)  # a few more scrapes, so every rate window holds two samples
        yield Live(suite, prometheus, work, scrape_all(suite.ports))


class TestMetricsEndpoint:
    def test_each_process_exposes_exactly_its_catalogued_metrics(self, live: Live) -> None:
        catalogue = load_catalogue()
        for job, text in live.scrapes.items():
            exposed = {_query_name(f.name, f.type): f.type for f in _families(text)}
            expected = {m.name: m.type for m in catalogue.values() if job in m.processes}
            assert exposed == expected, f"{job}: /metrics differs from docs/metrics.md"

    def test_sample_labels_are_the_catalogued_ones(self, live: Live) -> None:
        catalogue = load_catalogue()
        for job, text in live.scrapes.items():
            for family in _families(text):
                metric = catalogue[_query_name(family.name, family.type)]
                for sample in family.samples:
                    extra = set(sample.labels) - metric.labels - {"le"}
                    assert not extra, f"{job} {sample.name}: unexpected labels {extra}"

    def test_no_label_carries_a_raw_path_or_an_id(self, live: Live) -> None:
        secrets = live.work.partner_ids + live.work.partner_codes
        for job, text in live.scrapes.items():
            for secret in secrets:
                assert secret not in text, f"{job} exposes {secret}"
            for family in _families(text):
                for sample in family.samples:
                    for name, value in sample.labels.items():
                        if name == "program_id":  # bounded: a handful of programs
                            continue
                        assert not UUID.search(value), f"{job} {sample.name}{{{name}={value}}}"
                        if name == "route":
                            assert value == "unmatched" or value.startswith("/"), value
                            assert "?" not in value, value

    def test_the_workload_shows_in_the_business_metrics(self, live: Live) -> None:
        values = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for text in live.scrapes.values()
            for family in _families(text)
            for s in family.samples
        }
        assert values[("kpi_observations_ingested_total", (("channel", "http"),))] == 3
        assert values[("kpi_observations_rejected_total", (("code", "unknown_kpi"),))] >= 1
        approved = (("currency", "EUR"), ("program_id", live.work.program_id))
        assert values[("rebate_amount_approved_minor_total", approved)] == 3000
        assert values[("rebate_statements_settled_total", (("status", "paid"),))] == 1
        assert values[("channel_webhook_deliveries_total", (("result", "delivered"),))] >= 1
        route = "/api/v1/partners/{partner_id}"
        key = (("method", "GET"), ("route", route), ("status", "404"))
        assert values[("http_server_request_duration_seconds_count", key)] == 1


class TestDashboardsOnPrometheus:
    def test_every_panel_returns_data(self, live: Live, capsys: pytest.CaptureFixture[str]) -> None:
        empty, series = [], 0
        queries = list(panel_queries())
        for query in queries:
            result = live.prometheus.query(as_promql(query.expr))
            series += len(result)
            if not result and query.usage not in EMPTY_ALLOWED:
                empty.append(f"{query.usage}: {query.expr}")
        with capsys.disabled():
            print(
                f"\n[ops proof] workload {live.work.seconds:.1f} s; "
                f"{len(queries)} panel queries, {len(queries) - len(empty)} with data, "
                f"{series} series in all"
            )
        assert not empty, "panels without data:\n" + "\n".join(empty)

    def test_every_target_is_up(self, live: Live) -> None:
        up = {r["metric"]["job"]: r["value"][1] for r in live.prometheus.query("up")}
        assert up == dict.fromkeys(JOBS.values(), "1")

    def test_alert_rules_evaluate_cleanly_and_stay_quiet(self, live: Live) -> None:
        rules = live.prometheus.rules()
        assert len(rules) == 10
        for rule in rules:
            assert rule["health"] == "ok", f"{rule['name']}: {rule.get('lastError')}"
        # The workload dead-lettered an event on purpose: that alert fires at once. Its failed
        # deliveries may make ChannelConsumerStalled pend (they stop; it never fires), nothing else.
        firing = {r["name"] for r in rules for a in r.get("alerts", []) if a["state"] == "firing"}
        pending = {r["name"] for r in rules for a in r.get("alerts", []) if a["state"] == "pending"}
        assert firing == {"ChannelDeadLetters"}
        assert pending <= {"ChannelConsumerStalled"}


def _server_url() -> str | None:
    """The PostgreSQL server of TEST_DATABASE_URL (as asyncpg wants it), else None: SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    return url.replace("postgresql+asyncpg://", "postgresql://", 1) if url else None


def _families(text: str) -> list[Family]:
    """The metric families of a /metrics text."""
    return list(text_string_to_metric_families(text))


def _query_name(family: str, kind: str) -> str:
    """The name a query uses for a parsed family (counters end in `_total`)."""
    return f"{family}_total" if kind == "counter" else family
