"""`channelctl demo` and the README tour against the real suite (processes, NATS, SQLite or
PostgreSQL): statements, accruals and firing alerts appear, and a second run adds nothing.
The whole tour runs on several pinned days (a leap day, a quarter's last and first days): the
demo's figures and what the services make of them must not depend on the day it runs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from channel_common import CLOCK_ENV, pinned_clock
from channel_common.testing import free_port
from channelctl.demo import previous_quarter
from channelctl.demo_data import PARTNERS, QUARTERLY, TROUBLED
from typer.testing import Result

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from suite import Suite, SuiteOptions, server_url_from_env  # noqa: E402

DISTRIBUTORS = sorted(p.code for p in PARTNERS if p.type == "distributor")
DAYS = (date(2028, 2, 29), date(2027, 3, 31), date(2027, 10, 1))


@dataclass
class Tour:
    """The suite, a folder laid out like the repository after `make run`, and the CLI."""

    suite: Suite
    today: date
    root: Path
    data_dir: Path
    webhook_port: int
    run: Callable[[list[str]], Result]

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.suite.gateway_url,
            headers=self.suite.admin_headers,
            timeout=30,
            trust_env=False,
        )

    def demo(self) -> Result:
        return self.run(
            ["demo", "--data-dir", str(self.data_dir), "--webhook-port", str(self.webhook_port),
             "--no-progress", "--timeout", "150"]
        )  # fmt: skip


@pytest.fixture(scope="module", params=DAYS, ids=str)
def tour(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    cli: Callable[..., Result],
) -> Iterator[Tour]:
    today: date = request.param
    env = {"ALERT_ALLOW_LOOPBACK_WEBHOOKS": "true", CLOCK_ENV: today.isoformat()}
    options = SuiteOptions(server_url=server_url_from_env(), extra_env=env)
    root = tmp_path_factory.mktemp("checkout")
    started = time.monotonic()
    # The services and the demo (in this process) read the same pinned clock.
    with pinned_clock(today), Suite(options) as suite:
        print(f"suite ready after {time.monotonic() - started:.0f} s")
        (root / ".run").mkdir()
        (root / ".run" / "admin-key").write_text(suite.keys.admin_key + "\n")

        def run(args: list[str]) -> Result:
            # As the README has it: no --key (the .run/admin-key file), the URL from the env.
            return cli(args, cwd=root, env={"CHANNEL_URL": suite.gateway_url})

        yield Tour(suite, today, root, root / ".run" / "demo", free_port(), run)


@pytest.fixture(scope="module")
def first_demo(tour: Tour) -> Result:
    started = time.monotonic()
    result = tour.demo()
    print(f"first demo: {time.monotonic() - started:.0f} s\n{result.output}")
    return result


class TestDemo:
    def test_shows_statements_accruals_and_firing_alerts(self, first_demo: Result) -> None:
        out = first_demo.stdout
        assert first_demo.exit_code == 0, first_demo.output
        assert "20 partners created" in out
        assert f"Statements — {QUARTERLY}" in out
        assert all(code in out for code in DISTRIBUTORS)
        assert "Retail annual growth bonus — " in out
        assert "Firing alerts (2)" in out
        assert "the demo's receiver got 2 notifications" in out
        assert out.count("(signature ok)") == 2
        assert "channelctl alerts ack --partner DIST-SC-CD" in out

    def test_the_figures_behind_the_tables(self, tour: Tour, first_demo: Result) -> None:
        assert first_demo.exit_code == 0, first_demo.output
        with tour.api() as api:
            ids = {
                p["code"]: p["id"] for p in api.get("/api/v1/partners?limit=500").json()["items"]
            }
            assert set(ids) == {p.code for p in PARTNERS}
            firing = api.get("/api/v1/alerts", params={"state": "firing"}).json()["items"]
            assert sorted((a["labels"]["rule"], a["labels"]["partner_code"]) for a in firing) == (
                sorted(TROUBLED)
            )
            accruals = api.get("/api/v1/accruals", params={"limit": 500}).json()["items"]
            assert len(accruals) == len(PARTNERS)
            statements = api.get(
                "/api/v1/rebate-statements",
                params={"period": previous_quarter(tour.today), "limit": 500},
            ).json()["items"]
        codes = {v: k for k, v in ids.items()}
        tiers = {codes[s["partner_id"]]: s["tier_index"] for s in statements}
        assert sorted(tiers) == DISTRIBUTORS
        assert tiers["DIST-GD"] == 3  # the biggest distributor reaches the top tier
        assert tiers["DIST-SC-CD"] == 0  # falling sales: first tier only
        assert all(s["status"] == "draft" and s["kind"] == "original" for s in statements)

    def test_a_second_run_keeps_what_is_there(self, tour: Tour, first_demo: Result) -> None:
        assert first_demo.exit_code == 0, first_demo.output
        again = tour.demo()
        assert again.exit_code == 0, again.output
        assert "20 already there" in again.stdout
        assert "already loaded" in again.stdout
        with tour.api() as api:
            dist = api.get("/api/v1/partners/by-code/DIST-GD").json()["id"]
            rows = api.get(
                "/api/v1/observations",
                params={"partner_id": dist, "kpi": "sales_amount", "limit": 500},
            ).json()["items"]
            programs = api.get("/api/v1/rebate-programs").json()["items"]
            rules = api.get("/api/v1/alert-rules").json()["items"]
            hooks = api.get("/api/v1/webhooks").json()["items"]
        assert len(rows) == len({row["occurred_on"][:7] for row in rows}) >= 18
        assert (len(programs), len(rules), len(hooks)) == (2, 2, 1)


class TestTour:
    def test_rebates_run_prints_the_statements(self, tour: Tour, first_demo: Result) -> None:
        result = tour.run(["rebates", "run", QUARTERLY, previous_quarter(tour.today)])
        assert result.exit_code == 0, result.output
        assert all(code in result.stdout for code in DISTRIBUTORS)
        assert "9 statements, total" in result.stdout

    def test_accruals_and_partners(self, tour: Tour, first_demo: Result) -> None:
        accruals = tour.run(["rebates", "accruals"])
        assert accruals.exit_code == 0, accruals.output
        assert "20 accruals in open periods" in accruals.stdout
        listed = tour.run(["partners", "list", "--region", "CN-SC"])
        assert listed.exit_code == 0, listed.output
        assert "Partners (6)" in listed.stdout
        shown = tour.run(["partners", "show", "DIST-SC-CD"])
        assert shown.exit_code == 0, shown.output
        assert "SHOP-SC-CD-01" in shown.stdout and "CN-SC-CD (exclusive)" in shown.stdout
        series = tour.run(["kpis", "series", "sales_amount", "--partner", "DIST-SC-CD"])
        assert series.exit_code == 0, series.output
        assert "sales_amount by month — DIST-SC-CD" in series.stdout

    def test_importing_late_reports_writes_the_rejects(
        self, tour: Tour, first_demo: Result
    ) -> None:
        path = tour.data_dir / "late-reports.csv"
        result = tour.run(["kpis", "import", str(path), "--no-progress"])
        assert result.exit_code == 4, result.output
        assert "accepted 2, duplicates 1, rejected 3" in result.stdout
        rejects = (tour.data_dir / "late-reports.rejected.csv").read_text().splitlines()
        assert rejects[0] == path.read_text().splitlines()[0]
        assert [line.split(",")[2] for line in rejects[1:]] == [
            "customer_satisfaction",
            "footfall",
            "units_sold",
        ]

    def test_ack_then_only_the_other_alert_fires(self, tour: Tour, first_demo: Result) -> None:
        acked = tour.run(["alerts", "ack", "--partner", "DIST-SC-CD", "--note", "on it"])
        assert acked.exit_code == 0, acked.output
        assert "acknowledged" in acked.stdout
        firing = tour.run(["alerts", "list", "--state", "firing"])
        assert "Alerts (1)" in firing.stdout and "SHOP-GD-SZ-02" in firing.stdout
        again = tour.run(["alerts", "ack", "--partner", "DIST-SC-CD"])
        assert again.exit_code == 1
        assert again.stderr == "error: DIST-SC-CD has no firing alert\n"

    def test_a_portal_key_sees_only_its_partner(self, tour: Tour, first_demo: Result) -> None:
        created = tour.run(
            ["keys", "create", "portal", "--scope", "partners:read", "--partner", "SHOP-GD-SZ-02"]
        )
        assert created.exit_code == 0, created.output
        secret = created.stdout.strip().splitlines()[-1]
        assert secret.startswith("csk_")
        seen = tour.run(["--key", secret, "partners", "list"])
        assert seen.exit_code == 0, seen.output
        assert "Partners (1)" in seen.stdout and "SHOP-GD-SZ-02" in seen.stdout
        refused = tour.run(["--key", secret, "alerts", "list"])
        assert refused.exit_code == 1
        assert refused.stderr.startswith("error: 403 ")

    def test_errors_are_one_line(self, tour: Tour, first_demo: Result) -> None:
        wrong = tour.run(["--key", "csk_wrong", "partners", "list"])
        assert wrong.exit_code == 1
        assert wrong.stderr == "error: 401 Unauthorized: Unknown or revoked API key.\n"
        period = tour.run(["rebates", "run", QUARTERLY, "2026-13"])
        assert period.exit_code == 1
        assert period.stderr.startswith("error: 422 ") and period.stderr.count("\n") == 1
