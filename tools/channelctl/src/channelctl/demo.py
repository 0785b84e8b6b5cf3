"""`channelctl demo`: load a believable channel into a running suite and show what it gives —
rebate statements, live accruals, firing alerts and their webhook notifications.

Safe to run again: existing partners, programs, rules and the webhook are kept, and the KPI
history is imported only once (its observation ids make a re-import a no-op anyway)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from .alerts import alerts_table
from .client import ApiError, CliError, Gateway
from .context import gateway, state
from .demo_data import (
    ANNUAL,
    PARTNERS,
    QUARTERLY,
    TROUBLED,
    Observation,
    history_months,
    late_reports_csv,
    month_label,
    observations,
    quarter_of,
    sum_sales,
    to_ndjson,
)
from .demo_seed import (
    ensure_alert_rules,
    ensure_partners,
    ensure_programs,
    ensure_webhook,
    wait_for,
)
from .display import console, money
from .kpis import import_file, print_summary
from .partners import PartnerNames
from .rebates import accruals_tables, run_program, statement_bases, statements_table
from .webhooks import DEFAULT_PORT, Receiver

__all__ = ["CLOCK_ENV", "demo_command", "previous_quarter", "suite_today"]

CLOCK_ENV = "CHANNEL_CLOCK"

NDJSON = "application/x-ndjson"
WEBHOOK_PATH = "/channel-demo"


def channel_shape() -> str:
    """`3 provincial distributors, 6 city distributors, …` of the demo channel."""
    provincial = sum(p.type == "distributor" and p.parent is None for p in PARTNERS)
    cities = sum(p.type == "distributor" and p.parent is not None for p in PARTNERS)
    shops = sum(p.type == "retailer" for p in PARTNERS)
    online = sum(p.type == "online" for p in PARTNERS)
    return (
        f"{provincial} provincial distributors, {cities} city distributors, "
        f"{shops} retailers, {online} online store"
    )


def suite_today() -> date:
    """Today (UTC) as the suite sees it: `CHANNEL_CLOCK` pins the services' clock (see
    channel_common's `_clock`), and the demo's figures must end on the same day."""
    pin = os.environ.get(CLOCK_ENV)
    return date.fromisoformat(pin[:10]) if pin else datetime.now(UTC).date()


def previous_quarter(today: date) -> str:
    """The last closed quarter before the one containing `today`."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"


def _write_ndjson(path: Path, rows: list[Observation], ids: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for line in to_ndjson(rows, ids):
            out.write(line)
    return path


@contextlib.contextmanager
def _receiver(port: int, secret: str | None) -> Iterator[Receiver | None]:
    """A webhook receiver for the demo's duration (None when the port is taken)."""
    try:
        receiver = Receiver(port=port, secret=secret).start()
    except OSError:
        yield None
        return
    try:
        yield receiver
    finally:
        receiver.stop()


class Demo:
    """One run of the demo against a gateway."""

    def __init__(
        self,
        gw: Gateway,
        *,
        today: date,
        data_dir: Path,
        webhook_port: int,
        timeout: float,
        progress: bool,
        sleep: Callable[[float], None],
    ) -> None:
        """Prepare the figures for `today`; nothing is sent yet."""
        self.gw, self.today, self.data_dir = gw, today, data_dir
        self.webhook_port, self.timeout = webhook_port, timeout
        self.progress, self.sleep = progress, sleep
        self.out = console()
        self.rows = observations(today)
        self.current = month_label(today)

    def step(self, name: str, text: str) -> None:
        """One line of the running commentary."""
        self.out.print(f"[bold cyan]{name:<13}[/] {text}")

    def run(self) -> None:
        """Every step, in order."""
        self.out.print(f"[bold]Channel Suite demo[/] → {self.gw.url}  (today {self.today})")
        self.gw.request("GET", "/readyz")  # 503 names what is not ready
        ids, partners = ensure_partners(self.gw)
        self.step("Partners", f"{partners.line('partners')} — {channel_shape()}; all active")
        for note in partners.notes or []:
            self.step("", f"[yellow]{note}[/]")
        first_day = history_months(self.today)[0]
        programs, seeded = ensure_programs(self.gw, first_day)
        self.step("Programs", f"{seeded.line('programs')}: {QUARTERLY!r}, {ANNUAL!r}")
        rules, seeded = ensure_alert_rules(self.gw)
        self.step("Alert rules", f"{seeded.line('rules')}: " + ", ".join(repr(r) for r in rules))
        url = f"http://127.0.0.1:{self.webhook_port}{WEBHOOK_PATH}"
        secret, text = ensure_webhook(self.gw, url, self.data_dir / "webhook-secret")
        self.step("Webhook", text)
        with _receiver(self.webhook_port, secret) as receiver:
            if secret and receiver is None:
                self.step("", f"port {self.webhook_port} is taken: your own receiver gets them")
            loaded_now = self.load_history(ids)
            if loaded_now:
                self.wait_for_services(ids, programs, rules)
            # Notifications come once, when alerts fire: on a later run there is none to wait for.
            self.show(programs, receiver if secret and loaded_now else None)
        self.tour()

    def load_history(self, ids: dict[str, str]) -> bool:
        """Import the KPI history once (then the current month to date); False if loaded."""
        (self.data_dir / "late-reports.csv").parent.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "late-reports.csv").write_text(
            late_reports_csv(self.rows, ids, self.today)
        )
        self.wait_until_kpi_svc_knows(ids)
        probe = self.gw.get(
            "/api/v1/observations", partner_id=ids[PARTNERS[0].code], kpi="sales_amount", limit=1
        )
        months = history_months(self.today)
        if probe["items"]:
            self.step("KPI history", f"{month_label(months[0])} … {self.current} already loaded")
            return False
        history = [r for r in self.rows if r.month != self.current]
        to_date = [r for r in self.rows if r.month == self.current]
        spans = {
            "kpi-history.ndjson": f"{history[0].month} … {history[-1].month}",
            "kpi-month-to-date.ndjson": f"{self.current} to date",
        }
        # Two imports, in order: once the second one's figures show, the first one's have
        # been taken in by every service (each consumes its stream in order).
        for name, rows in (("kpi-history.ndjson", history), ("kpi-month-to-date.ndjson", to_date)):
            path = _write_ndjson(self.data_dir / name, rows, ids)
            self.step("KPI import", f"{path}: {len(rows)} observations, {spans[name]}")
            summary = import_file(self.gw, path, media_type=NDJSON, show_progress=self.progress)
            print_summary(summary)
            if summary.rejected_count:
                raise CliError(f"{summary.rejected_count} demo observations were rejected")
        return True

    def wait_until_kpi_svc_knows(self, ids: dict[str, str]) -> None:
        """kpi-svc learns partners from events: wait until it knows the last one created."""
        last = ids[PARTNERS[-1].code]

        def known() -> bool:
            try:
                self.gw.get(f"/api/v1/scorecards/{last}", period=self.current)
            except ApiError as exc:
                if exc.status == 404:
                    return False
                raise
            return True

        with self.out.status("waiting for kpi-svc to learn the partners…"):
            wait_for(
                known, timeout=self.timeout, what="kpi-svc to learn the partners", sleep=self.sleep
            )

    def expected_bases(self, programs: dict[str, dict[str, Any]]) -> dict[tuple[str, str], Decimal]:
        """(program id, partner code) → the accrual basis the imported figures must give."""
        quarter = quarter_of(self.today)
        months_q = {
            m
            for m in {r.month for r in self.rows}
            if quarter_of(date.fromisoformat(m + "-01")) == quarter
        }
        months_y = {r.month for r in self.rows if r.month.startswith(str(self.today.year))}
        expected = {}
        for partner in PARTNERS:
            name, months = (
                (QUARTERLY, months_q) if partner.type == "distributor" else (ANNUAL, months_y)
            )
            expected[(str(programs[name]["id"]), partner.code)] = sum_sales(
                self.rows, partner.code, months
            )
        return expected

    def wait_for_services(
        self,
        ids: dict[str, str],
        programs: dict[str, dict[str, Any]],
        rules: dict[str, dict[str, Any]],
    ) -> None:
        """Wait until rebate-svc's accruals and alert-svc's alerts reflect every figure."""
        codes = {v: k for k, v in ids.items()}
        expected = self.expected_bases(programs)
        wanted_alerts = {(str(rules[rule]["id"]), ids[code]) for rule, code in TROUBLED}

        def caught_up() -> bool:
            accruals = {
                (str(a["program_id"]), codes.get(str(a["partner_id"]), "")): Decimal(
                    a["basis_value"]
                )
                for a in self.gw.paginate("/api/v1/accruals")
            }
            if any(accruals.get(key) != value for key, value in expected.items()):
                return False
            firing = {
                (str(a["rule_id"]), str(a["partner_id"]))
                for a in self.gw.paginate("/api/v1/alerts", state="firing")
            }
            return wanted_alerts <= firing

        started = time.monotonic()
        with self.out.status("waiting for rebate-svc and alert-svc to take the figures in…"):
            wait_for(caught_up, timeout=self.timeout, what="accruals and alerts", sleep=self.sleep)
        self.step(
            "Caught up", f"accruals and alerts current after {time.monotonic() - started:.0f} s"
        )

    def show(self, programs: dict[str, dict[str, Any]], receiver: Receiver | None) -> None:
        """The statements of last quarter's run, the accruals, the firing alerts, the webhooks."""
        names = PartnerNames(self.gw)
        names.load_all()
        quarter = previous_quarter(self.today)
        run = run_program(
            self.gw, programs[QUARTERLY], quarter, timeout=self.timeout, sleep=self.sleep
        )
        bases = statement_bases(self.gw, run["statements"])
        self.out.print()
        self.out.print(
            statements_table(
                f"Statements — {QUARTERLY}, {quarter}", run["statements"], names, bases
            )
        )
        self.out.print(f"total [bold]{money(run['total_amount'])} {run['currency']}[/]")
        accruals = list(self.gw.paginate("/api/v1/accruals"))
        by_id = {str(p["id"]): p for p in programs.values()}
        for accruals_table in accruals_tables(accruals, names, by_id):
            self.out.print()
            self.out.print(accruals_table)
        firing = list(self.gw.paginate("/api/v1/alerts", state="firing"))
        self.out.print()
        self.out.print(alerts_table(f"Firing alerts ({len(firing)})", firing))
        if receiver is not None:
            self.show_deliveries(receiver, len(firing))

    def show_deliveries(self, receiver: Receiver, firing: int) -> None:
        """What the local receiver got (waiting a little for the notifications to arrive)."""
        deadline = time.monotonic() + min(self.timeout, 15.0)
        while len(receiver.received()) < firing and time.monotonic() < deadline:
            self.sleep(0.5)
        got = receiver.received()
        self.out.print()
        self.step("Webhook", f"the demo's receiver got {len(got)} notifications:")
        for delivery in got:
            self.out.print("  " + delivery.line(), markup=False, soft_wrap=True)

    def tour(self) -> None:
        """What to try next."""
        quarter = previous_quarter(self.today)
        troubled = TROUBLED[0][1]
        lines = [
            "channelctl partners list --region CN-SC",
            f"channelctl partners show {troubled}",
            f"channelctl kpis series sales_amount --partner {troubled} "
            f"--from {self.today.year - 1}-01",
            f'channelctl rebates run "{QUARTERLY}" {quarter}',
            "channelctl rebates accruals",
            "channelctl alerts list --state firing",
            f'channelctl alerts ack --partner {troubled} --note "account manager on it"',
            f"channelctl kpis import {self.data_dir / 'late-reports.csv'}",
        ]
        self.out.print()
        self.out.print("[bold]Next, try:[/]")
        for line in lines:
            self.out.print(f"  {line}", markup=False, soft_wrap=True)


def demo_command(
    ctx: typer.Context,
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo writes its files (KPI files, webhook secret).")
    ] = Path(".run") / "demo",
    webhook_port: Annotated[
        int, typer.Option(help="Local port of the demo's webhook receiver.")
    ] = DEFAULT_PORT,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each step.")] = 180.0,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Load a demo channel and show its statements, accruals and firing alerts.

    Partners in a hierarchy, 18+ months of KPIs, a quarterly and an annual rebate program,
    alert rules and a webhook to a local receiver. Safe to run again."""
    today = suite_today()
    with gateway(ctx) as gw:
        Demo(
            gw,
            today=today,
            data_dir=data_dir,
            webhook_port=webhook_port,
            timeout=timeout,
            progress=progress,
            sleep=state(ctx).options.sleep,
        ).run()
