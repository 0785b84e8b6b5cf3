"""Ingestion benchmark for kpi-svc: JSON batches, a replayed batch and a streamed NDJSON import,
in process against a fresh database and a real nats-server, then the outbox drain.

    .venv/bin/python bench/ingest.py                      # SQLite, defaults below
    .venv/bin/python bench/ingest.py --batches 5 --import-lines 200000
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/ingest.py                  # a fresh PostgreSQL database

Numbers are observations per second through the HTTP API (validation, bulk insert, day and
month aggregates and chunked outbox events, all in one transaction per request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from channel_common import OutboxMessage, ReceivedEvent, create_engine, create_sessionmaker
from channel_common.testing import NatsServer, app_client, bearer, fresh_database_url
from kpi_svc.app import create_app
from kpi_svc.consumers import apply_partner_event
from kpi_svc.settings import Settings
from sqlalchemy import func
from sqlmodel import select

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "services" / "kpi-svc" / "alembic.ini"
KPIS = (("sales_amount", 100_000), ("units_sold", 500), ("conversion_rate", 1))
FIRST_DAY = date(2026, 1, 1)


def observation(partners: list[str], rng: random.Random) -> dict[str, Any]:
    """A random valid observation (values as strings with two decimals)."""
    kpi, ceiling = rng.choice(KPIS)
    cents = rng.randrange(0, ceiling * 100 + 1)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "partner_id": rng.choice(partners),
        "kpi": kpi,
        "value": f"{cents // 100}.{cents % 100:02d}",
        "occurred_on": (FIRST_DAY + timedelta(days=rng.randrange(365))).isoformat(),
        "source": "bench",
    }


async def seed_partners(settings: Settings, count: int) -> list[str]:
    """Partners in the replica, applied through the consumer handler."""
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    async with sessions() as session:
        for number, partner in enumerate(ids):
            data: dict[str, Any] = {
                "id": partner,
                "code": f"B{number:05d}",
                "tier": ("gold", "silver")[number % 2],
                "type": "reseller",
                "region": "CN-GD",
                "status": "active",
                "territories": [],
                "version": 1,
            }
            event = ReceivedEvent(
                id=str(uuid.uuid4()),
                type="partner.registered.v1",
                source="bench",
                subject=None,
                time=None,
                data=data,
                nats_subject="partner.registered.v1",
            )
            await apply_partner_event(session, event)
        await session.commit()
    await engine.dispose()
    return ids


async def outbox_backlog(settings: Settings) -> int:
    """Outbox events not published yet."""
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        count = (
            await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
            )
        ).one()
    await engine.dispose()
    return int(count)


def report(label: str, items: int, seconds: float) -> None:
    print(f"{label:<34} {items:>9,} obs  {seconds:8.2f} s  {items / seconds:>10,.0f} obs/s")


async def run(args: argparse.Namespace, database_url: str, nats_url: str) -> None:
    settings = Settings(
        jwt_key=secrets.token_urlsafe(32),
        database_url=database_url,
        nats_url=nats_url,
        log_level="WARNING",
        outbox_poll_seconds=0.2,
    )
    rng = random.Random(args.seed)  # noqa: S311 (test data, not secrets)
    partners = await seed_partners(settings, args.partners)
    headers = bearer(settings, ["kpis:write", "kpis:read"])
    async with app_client(create_app(settings), timeout=600) as client:
        batches = [
            [observation(partners, rng) for _ in range(args.batch_size)]
            for _ in range(args.batches)
        ]
        started = time.perf_counter()
        for batch in batches:
            response = await client.post(
                "/api/v1/observations", json={"observations": batch}, headers=headers
            )
            assert response.json()["accepted"] == len(batch), response.text
        report(
            f"JSON batches of {args.batch_size:,}",
            args.batches * args.batch_size,
            time.perf_counter() - started,
        )

        started = time.perf_counter()
        response = await client.post(
            "/api/v1/observations", json={"observations": batches[0]}, headers=headers
        )
        assert response.json()["duplicates"] == len(batches[0]), response.text
        report("replayed batch (all duplicates)", len(batches[0]), time.perf_counter() - started)

        async def lines() -> AsyncIterator[bytes]:
            buffer: list[str] = []
            for _ in range(args.import_lines):
                buffer.append(json.dumps(observation(partners, rng)))
                if len(buffer) == 1000:
                    yield ("\n".join(buffer) + "\n").encode()
                    buffer.clear()
            if buffer:
                yield "\n".join(buffer).encode()

        started = time.perf_counter()
        response = await client.post(
            "/api/v1/observations:import",
            content=lines(),
            headers={**headers, "content-type": "application/x-ndjson"},
        )
        assert response.json()["accepted"] == args.import_lines, response.text
        report("NDJSON import (streamed)", args.import_lines, time.perf_counter() - started)

        started = time.perf_counter()
        backlog = await outbox_backlog(settings)
        while await outbox_backlog(settings):  # noqa: ASYNC110 (polling another process's work)
            await asyncio.sleep(0.2)
        drained = time.perf_counter() - started
        print(f"{'outbox drained to NATS':<34} {backlog:>9,} evt  {drained:8.2f} s")


def databases(temp: Path) -> Iterator[str]:
    """A fresh migrated database: BENCH_DATABASE_URL's server when set, else SQLite."""
    base = os.environ.get("BENCH_DATABASE_URL")
    if base:
        os.environ["TEST_DATABASE_URL"] = base
    else:
        os.environ.pop("TEST_DATABASE_URL", None)
    yield from fresh_database_url(ALEMBIC_INI, temp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--import-lines", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as temp:
        nats_server = NatsServer(Path(temp) / "nats")
        nats_server.start()
        try:
            for database_url in databases(Path(temp)):
                print(f"database: {database_url.split('://')[0]}, nats: {nats_server.url}")
                asyncio.run(run(args, database_url, nats_server.url))
        finally:
            nats_server.stop()


if __name__ == "__main__":
    main()
