"""What the fault drills share: starting the suite, reading its databases and metrics, ingesting
observations through the gateway with retries, and checking every projection against the exact
reference computed from the acknowledged observations."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from suite import Suite, SuiteOptions  # noqa: E402

__all__ = [
    "KPI",
    "Ledger",
    "Observation",
    "Suite",
    "check_projections",
    "converge",
    "ingest",
    "make_observations",
    "make_suite",
    "metric",
    "rows",
    "seed_partners",
    "started",
    "wait_for",
]

KPI = "sales_amount"
MICRO = Decimal(1_000_000)
FAST_ENV = {
    "GATEWAY_RATE_LIMIT_PER_SECOND": "100000",
    "GATEWAY_RATE_LIMIT_BURST": "100000",
    "LOG_LEVEL": "WARNING",
}
# The projections of the KPI the drills ingest (sales_amount, a sum), per partner and month.
KPI_MONTHS_SQL = (
    "SELECT partner_id, period, total_micro, count FROM kpi_aggregates "
    "WHERE kpi = 'sales_amount' AND granularity = 'month'"
)
REBATE_MONTHS_SQL = (
    "SELECT partner_id, period, value FROM rebate_kpi_aggregates WHERE kpi = 'sales_amount'"
)
ALERT_MONTHS_SQL = (
    "SELECT partner_id, period, value_micro, count FROM kpi_values "
    "WHERE kpi = 'sales_amount' AND granularity = 'month'"
)
ALERT_OBSERVED_SQL = (
    "SELECT coalesce(sum(observed), 0) FROM observation_days WHERE kpi = 'sales_amount'"
)
_PREFIXES = ("PARTNER_", "KPI_", "REBATE_", "ALERT_", "GATEWAY_")


def make_suite(
    services: Iterable[str], *, server_url: str | None = None, env: dict[str, str] | None = None
) -> Suite:
    """A Suite of `services` with the battery's settings: no rate limit, quiet logs, quick
    consumer retries (`env` adds or overrides; a key without a service prefix applies to all)."""
    merged: dict[str, str] = {}
    for key, value in {**FAST_ENV, "CONSUMER_RETRY_BASE_SECONDS": "0.2", **(env or {})}.items():
        if key.startswith(_PREFIXES):
            merged[key] = value
        else:
            merged |= {prefix + key: value for prefix in _PREFIXES}
    # BATTERY_KEEP_FILES=1 keeps each suite's folder (service logs, SQLite files) to look into.
    keep = os.environ.get("BATTERY_KEEP_FILES") == "1"
    return Suite(
        SuiteOptions(
            services=tuple(services), server_url=server_url, extra_env=merged, keep_files=keep
        )
    )


@contextlib.asynccontextmanager
async def started(suite: Suite) -> AsyncIterator[Suite]:
    """Start and close `suite` in a thread: with a PostgreSQL server it runs its own event loop
    to create and drop the databases, which it cannot do inside a test's loop."""
    await asyncio.to_thread(suite.__enter__)
    try:
        yield suite
    finally:
        await asyncio.to_thread(suite.close)


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout: float, step: float = 0.2
) -> float:
    """Poll `check` until it holds; the seconds it took. AssertionError after `timeout`."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"condition not reached in {timeout:.0f} s")
        await asyncio.sleep(step)
    return time.monotonic() - started


async def rows(suite: Suite, service: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on a service's own database (SQLite or PostgreSQL)."""
    if suite.options.server_url is None:
        path = suite.temp / f"{service}.db"

        def read() -> list[tuple[Any, ...]]:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as connection:
                return list(connection.execute(sql).fetchall())

        return await asyncio.to_thread(read)
    conn = await asyncpg.connect(suite.database_url(service, driver="postgresql"), timeout=10)
    try:
        return [tuple(record) for record in await conn.fetch(sql)]
    finally:
        await conn.close()


async def metric(suite: Suite, service: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples on a service's /metrics (matching `labels`)."""
    url = f"http://127.0.0.1:{suite.ports[service]}/metrics"
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        text = (await client.get(url)).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def seed_partners(
    suite: Suite, count: int, *, wait_in: tuple[str, ...] = ("kpi",)
) -> list[str]:
    """Register `count` partners through the gateway; returns their ids once every service in
    `wait_in` has them in its replica."""
    ids: list[str] = []
    async with suite.client() as client:
        for n in range(count):
            answer = await client.post(
                "/api/v1/partners",
                json={"code": f"B-{n:04d}", "name": f"Battery {n}", "type": "reseller",
                      "region": "CN-GD"},
            )  # fmt: skip
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
    tables = {"kpi": "kpi_partners", "rebate": "rebate_partners", "alert": "partners"}

    async def replicated() -> bool:
        for service in wait_in:
            found = await rows(suite, service, f"SELECT count(*) FROM {tables[service]}")  # noqa: S608
            if found[0][0] < count:
                return False
        return True

    await wait_for(replicated, 120)
    return ids


@dataclass(frozen=True)
class Observation:
    """One observation the test sends, with its reference key."""

    id: str
    partner_id: str
    occurred_on: date
    value: Decimal

    def body(self) -> dict[str, str]:
        """The JSON item of `POST /api/v1/observations`."""
        return {
            "id": self.id,
            "partner_id": self.partner_id,
            "kpi": KPI,
            "value": str(self.value),
            "occurred_on": self.occurred_on.isoformat(),
        }


def make_observations(partners: list[str], count: int, *, seed: int = 7) -> list[Observation]:
    """`count` observations of sales over the partners and the first 90 days of 2026."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible drill, not a secret)
    start = date(2026, 1, 1)
    return [
        Observation(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            partner_id=rng.choice(partners),
            occurred_on=start + timedelta(days=rng.randrange(90)),
            value=Decimal(rng.randrange(1, 10_000_000)) / 100,
        )
        for _ in range(count)
    ]


@dataclass
class Ledger:
    """What the client attempted and what was acknowledged, with every answer it saw."""

    attempted: dict[str, Observation] = field(default_factory=dict)
    acknowledged: dict[str, Observation] = field(default_factory=dict)
    retries: int = 0
    duplicates_answered: int = 0  # items a retry found already stored
    statuses: Counter[str] = field(default_factory=Counter)
    slowest_seconds: float = 0.0


async def ingest(
    client: httpx.AsyncClient,
    ledger: Ledger,
    batch: list[Observation],
    *,
    retry_pause: float = 0.2,
    deadline_seconds: float = 300.0,
) -> None:
    """POST one batch until it is acknowledged (2xx), retrying on 5xx, timeouts and connection
    errors with the same ids; every answer is counted in `ledger.statuses`."""
    ledger.attempted |= {o.id: o for o in batch}
    body = {"observations": [o.body() for o in batch]}
    started = time.monotonic()
    while True:
        sent = time.monotonic()
        try:
            answer = await client.post("/api/v1/observations", json=body)
        except httpx.TimeoutException:
            ledger.statuses["timeout"] += 1
        except httpx.TransportError:
            ledger.statuses["connection_error"] += 1
        else:
            ledger.statuses[str(answer.status_code)] += 1
            if answer.is_success:
                result = answer.json()
                assert result["rejected"] == [], result["rejected"][:3]
                assert result["accepted"] + result["duplicates"] == len(batch), result
                ledger.duplicates_answered += result["duplicates"]
                ledger.acknowledged |= {o.id: o for o in batch}
                ledger.slowest_seconds = max(ledger.slowest_seconds, time.monotonic() - sent)
                return
            assert answer.status_code >= 500, answer.text
            if not answer.headers.get("content-type", "").startswith("application/problem+json"):
                ledger.statuses[f"{answer.status_code}_not_problem"] += 1
        ledger.slowest_seconds = max(ledger.slowest_seconds, time.monotonic() - sent)
        if time.monotonic() - started > deadline_seconds:
            raise AssertionError(f"batch not acknowledged in {deadline_seconds:.0f} s")
        ledger.retries += 1
        await asyncio.sleep(retry_pause)


def _month_reference(
    observations: Iterable[Observation],
) -> dict[tuple[str, str], tuple[Decimal, int]]:
    """(partner, month) → (sum, count), exact."""
    reference: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for o in observations:
        key = (o.partner_id, o.occurred_on.strftime("%Y-%m"))
        total, count = reference.get(key, (Decimal(0), 0))
        reference[key] = (total + o.value, count + 1)
    return reference


def _uuid(value: Any) -> str:
    return str(uuid.UUID(str(value)))


def _micro(value: Any) -> Decimal:
    return Decimal(int(value)) / MICRO


async def check_projections(
    suite: Suite, ledger: Ledger, *, downstream: bool = True
) -> dict[str, Any]:
    """Compare kpi-svc's store and the rebate-svc and alert-svc projections with the exact
    reference of the acknowledged observations; the Jepsen-style figures."""
    stored = [_uuid(r[0]) for r in await rows(suite, "kpi", "SELECT id FROM kpi_observations")]
    stored_set = set(stored)
    acknowledged = set(ledger.acknowledged)
    reference = _month_reference(ledger.acknowledged.values())
    want_sums = {key: total for key, (total, _) in reference.items()}
    kpi_months = await rows(suite, "kpi", KPI_MONTHS_SQL)
    figures: dict[str, Any] = {
        "attempted": len(ledger.attempted),
        "acknowledged": len(acknowledged),
        "lost": len(acknowledged - stored_set),
        "duplicated": len(stored) - len(stored_set),
        "unexpected": len(stored_set - set(ledger.attempted)),
        "kpi_wrong_months": _wrong(
            {(_uuid(p), m): (_micro(t), int(c)) for p, m, t, c in kpi_months}, reference
        ),
    }
    if downstream:
        rebate = await rows(suite, "rebate", REBATE_MONTHS_SQL)
        alert = await rows(suite, "alert", ALERT_MONTHS_SQL)
        observed = await rows(suite, "alert", ALERT_OBSERVED_SQL)
        figures |= {
            "rebate_wrong_months": _wrong(
                {(_uuid(p), m): Decimal(v) for p, m, v in rebate}, want_sums
            ),
            "alert_wrong_months": _wrong(
                {(_uuid(p), m): (_micro(v), int(c)) for p, m, v, c in alert}, reference
            ),
            # alert-svc adds each observation to a day counter: a duplicate effect shows here.
            "alert_observed": int(observed[0][0]),
        }
        figures["duplicated"] += max(0, figures["alert_observed"] - len(stored_set))
    return figures


def assert_exactly_once(figures: dict[str, Any]) -> None:
    """Nothing acknowledged was lost, nothing applied twice or invented, and every projection
    equals the reference (figures of `check_projections` with `downstream`)."""
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["unexpected"] == 0
    assert figures["kpi_wrong_months"] == 0
    assert figures["rebate_wrong_months"] == 0
    assert figures["alert_wrong_months"] == 0
    assert figures["alert_observed"] == figures["acknowledged"]


def _wrong(found: dict[Any, Any], want: dict[Any, Any]) -> int:
    """Keys whose projected value differs from the reference (missing or extra count too)."""
    return sum(1 for key in found.keys() | want.keys() if found.get(key) != want.get(key))


async def converge(
    suite: Suite, ledger: Ledger, *, timeout: float = 240.0, downstream: bool = True
) -> tuple[dict[str, Any], float]:
    """Wait until every projection equals the reference (or `timeout`); the last figures and
    the seconds it took."""
    started = time.monotonic()
    while True:
        figures = await check_projections(suite, ledger, downstream=downstream)
        settled = (
            figures["lost"] == 0
            and figures["kpi_wrong_months"] == 0
            and (
                not downstream
                or (
                    figures["rebate_wrong_months"] == 0
                    and figures["alert_wrong_months"] == 0
                    and figures["alert_observed"] == figures["acknowledged"]
                )
            )
        )
        if settled or time.monotonic() - started > timeout:
            return figures, round(time.monotonic() - started, 1)
        await asyncio.sleep(1.0)
