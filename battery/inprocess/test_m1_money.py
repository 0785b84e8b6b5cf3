"""M1: rebate money — random programs by basis values, computed by the service's runs and stored
on SQLite and on PostgreSQL: both databases give identical statements, and every statement
equals a reference implementation written from DESIGN.md §5 (retroactive, incremental, growth,
half-up rounding per line to the currency's minor unit, cap)."""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from battery_support import report, sized
from channel_common import ReceivedEvent
from channel_common.testing import bearer
from inprocess.conftest import LONG_TTL, Started
from rebate_svc.consumers import aggregates_handler, partner_handler

# The PostgreSQL server M1 compares against (it creates and drops a database of its own).
POSTGRES = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
PARTNERS = 50
PROGRAMS = sized(10_000, 100_000) // PARTNERS  # programs x partners = statements
SEED = 20261127
DETAILED_EVERY = 10
MINOR_UNITS = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
THIS_PERIOD, MONTH, YEAR_AGO_MONTH = "2026-Q1", "2026-02", "2025-02"


@dataclass(frozen=True)
class Program:
    """A random program: the request body and what the reference needs."""

    kpi: str
    body: dict[str, Any]


def _money(rng: random.Random, top: int, digits: int) -> Decimal:
    return Decimal(rng.randint(0, top * 10**digits)).scaleb(-digits)


def random_program(rng: random.Random, n: int) -> Program:
    currency = rng.choice(sorted(MINOR_UNITS))
    growth = rng.random() < 0.3
    count = rng.randint(1, 5)
    if growth:
        starts = sorted({Decimal(rng.randint(-500, 1500)).scaleb(-3) for _ in range(count)})
    else:
        first = rng.choice([Decimal(0), _money(rng, 20_000, 2)])
        starts = sorted({first, *(_money(rng, 250_000, 2) for _ in range(count - 1))})
    tiers = [
        {"from": str(s), "rate": str(Decimal(rng.randint(0, 2000)).scaleb(-4))} for s in starts
    ]
    digits = MINOR_UNITS[currency]
    cap = str(_money(rng, 8_000, digits)) if rng.random() < 0.3 else None
    kpi = f"m1_kpi_{n}"
    body = {
        "name": f"M1 program {n}",
        "currency": currency,
        "period": "quarter",
        "basis": {"kpi": kpi, "type": "growth" if growth else "volume"},
        "method": rng.choice(["retroactive", "incremental"]),
        "tiers": tiers,
        "cap": cap,
        "valid_from": "2025-01-01",
        "status": "active",
    }
    return Program(kpi, body)


def random_basis(rng: random.Random) -> Decimal:
    """A quarter's volume: some zeros, some exactly on a round figure, most arbitrary."""
    roll = rng.random()
    if roll < 0.05:
        return Decimal(0)
    if roll < 0.15:
        return Decimal(rng.choice([50_000, 120_000, 100_000, 1]))
    return _money(rng, 300_000, rng.choice([0, 2, 4, 6]))


def reference(body: dict[str, Any], basis: Decimal, prior: Decimal | None) -> dict[str, Any]:
    """The statement's figures per DESIGN.md §5 and docs/decisions.md (rebate-svc)."""
    quantum = Decimal(1).scaleb(-MINOR_UNITS[body["currency"]])
    tiers = sorted((Decimal(t["from"]), Decimal(t["rate"])) for t in body["tiers"])
    growth = body["basis"]["type"] == "growth"
    zero = Decimal(0).quantize(quantum)
    if growth and (prior is None or prior <= 0):
        return {"amount": zero, "tier_index": None, "reason": "no_baseline", "gross": zero}
    measure = (basis - prior) / prior if growth and prior else basis
    reached = [i for i, (start, _) in enumerate(tiers) if measure >= start]
    if not reached or (not growth and basis <= 0):
        return {"amount": zero, "tier_index": None, "reason": "below_first_tier", "gross": zero}
    top = reached[-1]
    if growth or body["method"] == "retroactive":
        lines = [basis * tiers[top][1]]
    else:
        ends = [start for start, _ in tiers[1:]] + [None]
        lines = [
            (min(basis, ends[i]) if ends[i] is not None else basis) - tiers[i][0]
            for i in range(top + 1)
        ]
        lines = [part * tiers[i][1] for i, part in enumerate(lines)]
    gross = sum((x.quantize(quantum, rounding=ROUND_HALF_UP) for x in lines), zero)
    cap = Decimal(body["cap"]) if body["cap"] is not None else None
    amount = min(gross, cap) if cap is not None else gross
    return {"amount": amount, "tier_index": top, "reason": None, "gross": gross}


def aggregate(partner_id: str, kpi: str, month: str, value: Decimal) -> dict[str, Any]:
    """One entry of `kpi.aggregates.updated.v1`."""
    return {"partner_id": partner_id, "kpi": kpi, "granularity": "month", "period": month,
            "value": str(value), "count": 1, "version": 1}  # fmt: skip


def received(subject: str, data: Any) -> ReceivedEvent:
    return ReceivedEvent(str(uuid.uuid4()), subject, "urn:battery", None, None, data, subject)


async def run_everything(started: Started, programs: list[Program], values: Any) -> dict[str, Any]:
    """Feed partners and KPI values, create every program, run it; every statement by
    (program number, partner number)."""
    kpis = tuple(p.kpi for p in programs)
    found: dict[tuple[int, int], dict[str, Any]] = {}
    async with started("rebate", volume_kpis=kpis) as (svc, client):
        headers = bearer(svc.settings, ["admin"], subject="battery-m1", ttl_seconds=LONG_TTL)
        on_partner, on_aggregates = partner_handler(svc.settings), aggregates_handler(svc.settings)
        partner_ids = [str(uuid.UUID(int=i + 1)) for i in range(PARTNERS)]
        async with svc.app.state.sessions() as session:
            for i, pid in enumerate(partner_ids):
                snapshot = {"id": pid, "code": f"M1-{i:03d}", "name": "M1", "tier": "gold",
                            "type": "distributor", "region": "CN", "status": "active",
                            "territories": [], "version": 1}  # fmt: skip
                await on_partner(session, received("partner.registered.v1", snapshot))
            await session.commit()
        for n, program in enumerate(programs):
            updates = []
            for i, pid in enumerate(partner_ids):
                basis, prior = values[n][i]
                for month, value in ((MONTH, basis), (YEAR_AGO_MONTH, prior)):
                    if value is not None:
                        updates.append(aggregate(pid, program.kpi, month, value))
            async with svc.app.state.sessions() as session:
                await on_aggregates(
                    session, received("kpi.aggregates.updated.v1", {"updates": updates})
                )
                await session.commit()
            created = await client.post(
                "/api/v1/rebate-programs", json=program.body, headers=headers
            )
            assert created.status_code == 201, created.text
            program_id = created.json()["id"]
            body = {"program_id": program_id, "period": THIS_PERIOD}
            run = await client.post("/api/v1/rebate-runs", headers=headers, json=body)
            assert run.status_code == 202, run.text
            for statement in await _statements(client, headers, program_id):
                i = partner_ids.index(statement["partner_id"])
                if (n * PARTNERS + i) % DETAILED_EVERY == 0:  # lines and gross: one in ten
                    url = f"/api/v1/rebate-statements/{statement['id']}"
                    statement = (await client.get(url, headers=headers)).json()
                found[(n, i)] = statement
    return found


async def _statements(
    client: httpx.AsyncClient, headers: dict[str, str], program_id: str
) -> list[Any]:
    response = await client.get("/api/v1/rebate-statements", headers=headers,
                                params={"program_id": program_id, "limit": 500})  # fmt: skip
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _figures(statement: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("amount", "tier_index", "reason", "gross_amount", "basis_value", "prior_value")
    return tuple(statement.get(k) for k in keys)


async def test_money_is_identical_on_sqlite_and_postgresql_and_matches_the_reference(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)  # noqa: S311  (reproducible test data)
    programs = [random_program(rng, n) for n in range(PROGRAMS)]
    values = []
    for program in programs:
        growth = program.body["basis"]["type"] == "growth"
        rows = []
        for _ in range(PARTNERS):
            prior = random_basis(rng) if growth and rng.random() < 0.9 else None
            rows.append((random_basis(rng), prior))
        values.append(rows)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    on_sqlite = await run_everything(started, programs, values)
    monkeypatch.setenv("TEST_DATABASE_URL", POSTGRES)
    on_postgres = await run_everything(started, programs, values)
    differ = [
        key for key in on_sqlite if _figures(on_sqlite[key]) != _figures(on_postgres.get(key, {}))
    ]
    wrong, detailed = [], 0
    for (n, i), statement in on_sqlite.items():
        basis, prior = values[n][i]
        expected = reference(programs[n].body, basis, prior)
        got = (Decimal(statement["amount"]), statement["tier_index"], statement.get("reason"),
               Decimal(statement.get("gross_amount", expected["gross"])))  # fmt: skip
        want = (expected["amount"], expected["tier_index"], expected["reason"], expected["gross"])
        detailed += "gross_amount" in statement
        if got != want or statement["amount"] != str(expected["amount"]):
            wrong.append(
                f"program {n} partner {i}: got {got}, reference {want}, {programs[n].body}"
            )
    figures = report(
        "M1",
        programs=PROGRAMS,
        statements_sqlite=len(on_sqlite),
        statements_postgresql=len(on_postgres),
        differ_between_databases=len(differ),
        differ_from_reference=len(wrong),
        with_lines_checked=detailed,
        amount_sum_all_currencies=str(sum(Decimal(s["amount"]) for s in on_sqlite.values())),
    )
    assert not wrong, "\n".join(wrong[:10])
    assert not differ, differ[:10]
    assert figures["statements_sqlite"] == figures["statements_postgresql"] == PROGRAMS * PARTNERS
