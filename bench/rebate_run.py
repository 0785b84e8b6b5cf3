"""Rebate-run benchmark for rebate-svc: one quarterly run over N eligible partners, then a
re-run (drafts recomputed in place), against a fresh database.

    .venv/bin/python bench/rebate_run.py                       # SQLite, 100,000 partners
    .venv/bin/python bench/rebate_run.py --partners 20000
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/rebate_run.py                   # a fresh PostgreSQL database

The run is the service function behind `POST /api/v1/rebate-runs` in one transaction: load the
eligible partners and their months, compute, bulk-insert the statements and their outbox
events, commit. Goal: 100,000 partners in at most 10 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Generator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from channel_common import Principal, create_engine, create_sessionmaker, today
from channel_common.testing import fresh_database_url
from rebate_svc import service
from rebate_svc.models import KpiAggregate, PartnerReplica
from rebate_svc.repo import insert_rows
from rebate_svc.schemas import ProgramCreate, RunCreate

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "services" / "rebate-svc" / "alembic.ini"
MONTHS = ("2026-07", "2026-08", "2026-09")
ACTOR = Principal(subject="bench", scopes=frozenset({"admin"}))
VOLUME_KPIS = ("sales_amount", "units_sold")
CHUNK = 5_000


def database(tmp: Path) -> Generator[str, None, None]:
    """A fresh migrated database (PostgreSQL when BENCH_DATABASE_URL is set)."""
    base = os.environ.get("BENCH_DATABASE_URL")
    if base:
        # The same URL bench/ingest.py takes (plain postgresql://), in SQLAlchemy's async form.
        _, _, rest = base.partition("://")
        os.environ["TEST_DATABASE_URL"] = f"postgresql+asyncpg://{rest}"
    yield from fresh_database_url(ALEMBIC_INI, tmp)


async def seed(url: str, partners: int, rng: random.Random) -> None:
    """Active partners in the replica and three months of sales each."""
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    ids = [uuid.uuid4() for _ in range(partners)]
    async with sessions() as session:
        for start in range(0, partners, CHUNK):
            chunk = ids[start : start + CHUNK]
            await insert_rows(
                session,
                model=PartnerReplica,
                rows=[
                    {
                        "id": pid,
                        "code": f"B{start + i:06d}",
                        "tier": "gold",
                        "type": "reseller",
                        "region": "CN-GD-SZ",
                        "status": "active",
                        "version": 1,
                    }
                    for i, pid in enumerate(chunk)
                ],
            )
            rows: list[dict[str, Any]] = []
            for pid in chunk:
                for month in MONTHS:
                    cents = rng.randrange(0, 6_000_000)
                    value = f"{cents // 100}.{cents % 100:02d}"
                    rows.append(
                        {"partner_id": pid, "kpi": "sales_amount", "period": month,
                         "value": value, "version": 1}
                    )  # fmt: skip
            await insert_rows(session, model=KpiAggregate, rows=rows)
        await session.commit()
    await engine.dispose()


async def run(url: str) -> list[tuple[str, int, int]]:
    """Create the program, run the quarter twice; (label, milliseconds, statements) per run."""
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    program = ProgramCreate.model_validate(
        {
            "name": "bench",
            "currency": "EUR",
            "period": "quarter",
            "basis": {"kpi": "sales_amount", "type": "volume"},
            "method": "incremental",
            "tiers": [
                {"from": "0", "rate": "0.01"},
                {"from": "50000", "rate": "0.03"},
                {"from": "120000", "rate": "0.04"},
            ],
            "eligibility": {"regions": ["CN-GD"], "tiers": ["gold"]},
            "valid_from": date(2026, 1, 1),
            "status": "active",
        }
    )
    async with sessions() as session:
        created = await service.create_program(
            session, data=program, actor=ACTOR, volume_kpis=VOLUME_KPIS, today=today()
        )
        await session.commit()
    timings = []
    for label in ("first run", "re-run"):
        started = time.perf_counter()
        async with sessions() as session:
            done = await service.create_run(
                session,
                data=RunCreate(program_id=created.id, period="2026-Q3"),
                actor=ACTOR,
                volume_kpis=VOLUME_KPIS,
            )
            await session.commit()
        elapsed = int((time.perf_counter() - started) * 1000)
        async with sessions() as session:
            result = await service.get_run(session, run_id=done.id, principal=ACTOR)
        timings.append((label, elapsed, len(result.statements)))
    await engine.dispose()
    return timings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rebate-bench-") as tmp:
        urls = database(Path(tmp))
        url = next(urls)
        try:
            started = time.perf_counter()
            rng = random.Random(args.seed)  # noqa: S311  (reproducible data, not secrets)
            asyncio.run(seed(url, args.partners, rng))
            print(f"seeded {args.partners:,} partners in {time.perf_counter() - started:.1f} s")
            figures: dict[str, Any] = {"partners": args.partners}
            for label, millis, statements in asyncio.run(run(url)):
                rate = statements * 1000 // max(millis, 1)
                print(f"{label}: {statements:,} statements in {millis / 1000:.2f} s ({rate:,}/s)")
                key = label.replace(" ", "_").replace("-", "")
                figures[f"{key}_ms"], figures[f"{key}_statements"] = millis, statements
            print(json.dumps(figures))
        finally:
            urls.close()


if __name__ == "__main__":
    main()
