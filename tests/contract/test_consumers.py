"""Consumers accept the publishers' examples: every example committed in contracts/events is
valid against its schema and is applied by the real handler of every durable consumer that
subscribes to its subject, on that service's own migrated database."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from channel_common import ReceivedEvent, Subscription, create_engine, create_sessionmaker
from channel_common.testing import fresh_database_url, table_names
from sqlalchemy import text

import contracts

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = ("kpi-svc", "rebate-svc", "alert-svc")
# Subjects other systems publish into the suite: their schema is kpi-svc's to accept, not ours.
EXTERNAL = {"kpi.ingest.v1"}


def _schemas() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text())
        for path in (contracts.CONTRACTS_DIR / "events").glob("*.json")
    }


def _subscriptions(service: str) -> list[Subscription]:
    package = service.removesuffix("-svc").replace("-", "_") + "_svc"
    consumers = importlib.import_module(f"{package}.consumers")
    settings = importlib.import_module(f"{package}.settings").Settings(jwt_key="k" * 32)
    make = consumers.subscriptions
    return list(make(settings) if inspect.signature(make).parameters else make())


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` one token, `>` the rest."""
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or token not in ("*", given[index]):
            return False
    return len(wanted) == len(given)


def _cases() -> Iterator[Any]:
    schemas = _schemas()
    for service in CONSUMERS:
        for sub in _subscriptions(service):
            for subject in sorted(schemas):
                if any(_matches(pattern, subject) for pattern in sub.subjects):
                    yield pytest.param(service, sub, subject, id=f"{sub.durable}:{subject}")


def test_every_consumed_subject_has_a_publisher_with_examples() -> None:
    schemas = _schemas()
    for service in CONSUMERS:
        for sub in _subscriptions(service):
            matched = [s for s in schemas if any(_matches(p, s) for p in sub.subjects)]
            assert matched or set(sub.subjects) <= EXTERNAL, f"{sub.durable}: no publisher"
            for subject in matched:
                assert schemas[subject].get("examples"), f"{subject} has no examples"


def test_examples_are_valid_against_their_schema() -> None:
    checked = 0
    for schema in _schemas().values():
        for example in schema.get("examples", []):
            jsonschema.validate(example, schema)
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize(("service", "sub", "subject"), list(_cases()))
async def test_consumer_applies_the_publishers_examples(
    service: str, sub: Subscription, subject: str, tmp_path: Path
) -> None:
    # Migrating runs its own event loop: a thread of its own, as a sync fixture would.
    databases = fresh_database_url(ROOT / "services" / service / "alembic.ini", tmp_path)
    url = await asyncio.to_thread(next, databases)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        for index, example in enumerate(_schemas()[subject]["examples"]):
            event = ReceivedEvent(
                id=f"example-{index}",
                type=subject,
                source="urn:channel-suite:contract-test",
                subject=None,
                time="2026-10-15T09:30:00Z",
                data=json.loads(json.dumps(example), parse_float=Decimal),
                nats_subject=subject,
            )
            before = await _rows(url)
            async with sessions() as session:
                await sub.handler(session, event)
                await session.commit()
            assert await _rows(url) > before, f"{sub.durable} stored nothing of {subject}"
    finally:
        await engine.dispose()
        await asyncio.to_thread(databases.close)


async def _rows(url: str) -> int:
    """Rows in all of the database's tables."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            total = 0
            for name in sorted(await table_names(url)):
                total += (await connection.execute(text(f'SELECT count(*) FROM "{name}"'))).one()[0]
            return int(total)
    finally:
        await engine.dispose()
