"""Prometheus scrape config and alert rules pass promtool's checks and unit tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from ops_support import PROCESSES, ROOT, RULES, load_rules

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RUNBOOK = ROOT / "docs" / "operations.md"
REQUIRED_ALERTS = {
    "ChannelServiceDown",
    "ChannelHighErrorRatio",
    "ChannelHighLatencyP99",
    "ChannelOutboxBacklogGrowing",
    "ChannelDeadLetters",
    "ChannelConsumerStalled",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run promtool (from Debian's prometheus package)."""
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: `make test` installs Debian's prometheus package"
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False, timeout=120)


class TestPromtool:
    def test_rules_pass_check_rules(self) -> None:
        result = promtool("check", "rules", str(RULES))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout

    def test_rule_unit_tests_pass(self) -> None:
        tests = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
        assert tests
        result = promtool("test", "rules", *map(str, tests))
        assert result.returncode == 0, result.stdout + result.stderr

    def test_a_wrong_expectation_fails(self, tmp_path: Path) -> None:
        # The harness can fail: a service down for 5 minutes with "no alert" expected.
        wrong = {
            "rule_files": [str(RULES)],
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        {"series": 'up{job="kpi-svc", instance="kpi-svc:8000"}', "values": "0x6"}
                    ],
                    "alert_rule_test": [
                        {"eval_time": "5m", "alertname": "ChannelServiceDown", "exp_alerts": []}
                    ],
                }
            ],
        }
        path = tmp_path / "wrong.test.yml"
        path.write_text(yaml.safe_dump(wrong))
        result = promtool("test", "rules", str(path))
        assert result.returncode != 0
        assert "ChannelServiceDown" in result.stdout + result.stderr

    def test_scrape_config_passes_check_config(self, tmp_path: Path) -> None:
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        # Point rule_files at the repository copy of what compose mounts.
        config["rule_files"] = [str(RULES.parent / "*.rules.yml")]
        path = tmp_path / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        result = promtool("check", "config", str(path))
        assert result.returncode == 0, result.stdout + result.stderr


class TestScrapeConfig:
    def test_every_process_is_a_job_named_after_its_service(self) -> None:
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        for process in PROCESSES:
            (static,) = jobs[process]["static_configs"]
            assert static["targets"] == [f"{process}:8000"]

    def test_rule_files_are_what_compose_mounts(self) -> None:
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        assert config["rule_files"] == ["/etc/prometheus/rules/*.rules.yml"]


@pytest.fixture(scope="module")
def alerts() -> dict[str, dict[str, object]]:
    """The alerting rules by name."""
    return {rule["alert"]: rule for rule in load_rules() if "alert" in rule}


class TestAlertRules:
    def test_the_issue_alerts_exist(self, alerts: dict[str, dict[str, object]]) -> None:
        assert set(alerts) >= REQUIRED_ALERTS

    def test_every_alert_has_severity_summary_and_a_runbook_section(
        self, alerts: dict[str, dict[str, object]]
    ) -> None:
        anchors = {
            _anchor(line) for line in RUNBOOK.read_text().splitlines() if line.startswith("#")
        }
        for name, rule in alerts.items():
            labels = rule["labels"]
            annotations = rule["annotations"]
            assert isinstance(labels, dict) and isinstance(annotations, dict)
            assert labels["severity"] in {"critical", "warning", "info"}, name
            assert annotations["summary"], name
            page, _, anchor = str(annotations["runbook"]).partition("#")
            assert page == "docs/operations.md", name
            assert anchor in anchors, f"{name}: no section #{anchor} in docs/operations.md"

    def test_every_alert_is_unit_tested(self, alerts: dict[str, dict[str, object]]) -> None:
        text = "".join(p.read_text() for p in (PROMETHEUS_DIR / "tests").glob("*.yml"))
        for name in alerts:
            assert f"alertname: {name}" in text, f"{name} has no promtool unit test"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^a-z0-9 -]", "", text).replace(" ", "-")
