"""The live proof's machinery: a real Prometheus scraping the suite, a webhook receiver, and a
small workload through the gateway that touches every business flow."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import nats
import yaml
from channel_common.testing import free_port
from ops_support import RULES

JOBS = {"partner": "partner-svc", "kpi": "kpi-svc", "rebate": "rebate-svc", "alert": "alert-svc"}
JOBS["gateway"] = "gateway"
# What the suite runs with for the proof: fast gauges and webhooks, quick dead letters.
LIVE_ENV = {"PROMETHEUS_DISABLE_CREATED_SERIES": "True", "ALERT_ALLOW_LOOPBACK_WEBHOOKS": "true"}
LIVE_ENV |= {"ALERT_GAUGE_REFRESH_SECONDS": "1", "ALERT_WEBHOOK_POLL_SECONDS": "0.2"}
for _prefix in ("PARTNER_", "KPI_", "REBATE_", "ALERT_"):
    LIVE_ENV |= {f"{_prefix}CONSUMER_MAX_DELIVER": "2", f"{_prefix}OUTBOX_POLL_SECONDS": "0.2"}
    LIVE_ENV[f"{_prefix}CONSUMER_RETRY_BASE_SECONDS"] = "0.2"


class Prometheus:
    """A real `prometheus` (Debian package) scraping the given targets every second."""

    def __init__(self, workdir: Path, targets: dict[str, int]) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                for job, port in targets.items()
            ],
        }
        self.config = workdir / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(config))

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Prometheus:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is missing: `make test` installs Debian's prometheus package"
        log = (self.workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _ok(f"{self.url}/-/ready"), timeout=60, what="prometheus ready")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result vector of an instant query."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def rules(self) -> list[dict[str, Any]]:
        """Every loaded rule with its evaluation health."""
        body = httpx.get(f"{self.url}/api/v1/rules", timeout=10).json()
        return [rule for group in body["data"]["groups"] for rule in group["rules"]]


def _ok(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code == 200
    return False


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)


class WebhookReceiver:
    """An HTTP server on loopback that accepts webhook deliveries and remembers them."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(self.rfile.read(length))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where alert-svc posts."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Workload:
    """What the workload created, for the checks that follow."""

    partner_ids: list[str] = field(default_factory=list)
    partner_codes: list[str] = field(default_factory=list)
    program_id: str = ""
    statement_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _call(client: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    response = client.request(method, path, json=body)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def drive(gateway: httpx.Client, nats_url: str, receiver: WebhookReceiver) -> Workload:
    """Partners, KPI observations (accepted, rejected, duplicate), a rebate program with accruals,
    a run, an approval and a payment, an alert that fires and is delivered to a webhook, some
    4xx answers, and one poison event that every partner consumer dead-letters."""
    started = time.monotonic()
    work = Workload()
    today = datetime.now(UTC).date()
    _call(gateway, "POST", "/api/v1/webhooks", {"url": receiver.url, "events": ["alert.fired"]})
    _call(
        gateway,
        "POST",
        "/api/v1/alert-rules",
        {
            "name": "ops proof: any sales",
            "kpi": "sales_amount",
            "granularity": "month",
            "condition": {"type": "threshold", "op": "gt", "value": 0},
            "for_periods": 1,
            "severity": "warning",
        },
    )
    program = _call(
        gateway,
        "POST",
        "/api/v1/rebate-programs",
        {
            "name": "ops proof",
            "currency": "EUR",
            "period": "month",
            "basis": {"kpi": "sales_amount", "type": "volume"},
            "tiers": [{"from": 0, "rate": "0.01"}, {"from": 1000, "rate": "0.02"}],
            "valid_from": today.replace(month=1, day=1).isoformat(),
            "status": "active",
        },
    )
    work.program_id = program["id"]
    suffix = uuid.uuid4().hex[:8]
    for index in range(3):
        code = f"ops-{suffix}-{index}"
        partner = _call(
            gateway,
            "POST",
            "/api/v1/partners",
            {"code": code, "name": f"Ops {index}", "type": "reseller", "region": "CN-GD"},
        )
        for target in ("onboarding", "active"):
            _call(
                gateway,
                "POST",
                f"/api/v1/partners/{partner['id']}/transitions",
                {"to": target, "reason": "ops proof"},
            )
        work.partner_ids.append(partner["id"])
        work.partner_codes.append(code)
    items = [
        {
            "id": str(uuid.uuid4()),
            "partner_id": partner_id,
            "kpi": "sales_amount",
            "value": "1500",
            "occurred_on": today.isoformat(),
        }
        for partner_id in work.partner_ids
    ]
    invalid = [
        {"partner_id": work.partner_ids[0], "kpi": "no_such_kpi", "value": 1},
        {"partner_id": work.partner_ids[0], "kpi": "conversion_rate", "value": 5},
    ]
    invalid = [{**item, "occurred_on": today.isoformat()} for item in invalid]

    def ingested() -> bool:
        # kpi-svc learns partners from events: retry until all three are known (same ids, so
        # earlier acceptances come back as duplicates).
        answer = _call(gateway, "POST", "/api/v1/observations", {"observations": items + invalid})
        return bool(answer["accepted"] + answer["duplicates"] == len(items))

    wait_until(ingested, timeout=60, what="kpi-svc to accept the observations")
    wait_until(
        lambda: bool(
            _call(gateway, "GET", f"/api/v1/accruals?program_id={work.program_id}")["items"]
        ),
        timeout=60,
        what="rebate-svc accruals",
    )
    run = _call(
        gateway,
        "POST",
        "/api/v1/rebate-runs",
        {"program_id": work.program_id, "period": today.strftime("%Y-%m")},
    )
    statements = _call(gateway, "GET", f"/api/v1/rebate-statements?program_id={work.program_id}")
    assert statements["items"], run
    first = statements["items"][0]["id"]
    _call(gateway, "POST", f"/api/v1/rebate-statements/{first}/approve")
    _call(gateway, "POST", f"/api/v1/rebate-statements/{first}/mark-paid", {"payment_ref": "ops-1"})
    work.statement_ids = [s["id"] for s in statements["items"]]
    assert gateway.get(f"/api/v1/partners/{uuid.uuid4()}").status_code == 404
    assert gateway.post("/api/v1/partners", json={"code": "bad code!"}).status_code == 422
    asyncio.run(_publish_poison(nats_url))
    wait_until(lambda: bool(receiver.bodies), timeout=60, what="a webhook delivery")
    work.seconds = time.monotonic() - started
    return work


async def _publish_poison(url: str) -> None:
    """A message on `partner.>` without CloudEvents headers: every partner consumer fails it."""
    connection = await nats.connect(url)
    try:
        await connection.jetstream().publish("partner.ops.poison.v1", b"not an event")
    finally:
        await connection.close()


def scrape_all(ports: dict[str, int]) -> dict[str, str]:
    """The /metrics text of every process, by job name."""
    return {
        JOBS[name]: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        for name, port in ports.items()
    }


def as_promql(expr: str) -> str:
    """A panel query as Grafana sends it: `$job` = All, a 1 m rate interval, a 10 m range."""
    return (
        expr.replace("$__rate_interval", "1m").replace("$__range", "10m").replace('"$job"', '".*"')
    )
