"""Property: after any sequence of batches (with retries and repeated ids), every stored
aggregate equals a recomputation from the raw observations."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from channel_common import Granularity, SQLModelSession, period_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_svc.consumed import PartnerSnapshot
from kpi_svc.models import Aggregate, Observation
from kpi_svc.schemas import ObservationIn
from kpi_svc.service import IngestOutcome, apply_partner_snapshot, ingest_observations
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select

ID_POOL = [uuid.UUID(int=n) for n in range(1, 7)]
KPIS = ("sales_amount", "conversion_rate", "store_coverage")
FIRST_DAY = date(2026, 9, 25)

items = st.fixed_dictionaries(
    {
        "partner": st.integers(0, 1),
        "kpi": st.sampled_from(KPIS),
        "micro": st.integers(0, 1_000_000),
        "day": st.integers(0, 12),
        "id": st.one_of(st.none(), st.sampled_from(ID_POOL)),
    }
)
batches = st.lists(st.lists(items, min_size=1, max_size=8), min_size=1, max_size=3)


def expected_aggregates(rows: list[Observation]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    grouped: dict[tuple[Any, ...], list[Observation]] = defaultdict(list)
    for row in rows:
        for granularity in (Granularity.DAY, Granularity.MONTH):
            period = str(period_of(row.occurred_on, granularity))
            grouped[row.partner_id, row.kpi, granularity.value, period].append(row)
    result = {}
    for key, members in grouped.items():
        values = [m.value_micro for m in members]
        last = max(members, key=lambda m: (m.occurred_on, m.id))
        result[key] = (sum(values), len(values), min(values), max(values), last.value_micro)
    return result


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=batches)
async def test_aggregates_equal_a_recomputation_from_raw_rows(
    sessions: async_sessionmaker[SQLModelSession], batches: list[list[dict[str, Any]]]
) -> None:
    partners = [uuid.uuid4(), uuid.uuid4()]
    # Ids are per example (the database is shared by the examples).
    ids = {pool_id: uuid.uuid4() for pool_id in ID_POOL}
    async with sessions() as session:
        for number, partner in enumerate(partners):
            snapshot = PartnerSnapshot(
                id=partner,
                code=f"H{number}",
                tier="gold",
                type="agent",
                region="CN",
                status="active",
                version=1,
            )
            await apply_partner_snapshot(session, snapshot=snapshot)
        await session.commit()
    for batch in batches:
        observations = [
            ObservationIn(
                id=ids[item["id"]] if item["id"] else None,
                partner_id=partners[item["partner"]],
                kpi=item["kpi"],
                value=Decimal(item["micro"]).scaleb(-6),
                occurred_on=FIRST_DAY + timedelta(days=item["day"]),
            )
            for item in batch
        ]
        async with sessions() as session:
            outcome = IngestOutcome(batch_id=uuid.uuid4())
            await ingest_observations(
                session,
                items=observations,
                outcome=outcome,
                channel="test",
                max_event_bytes=256 * 1024,
            )
            await session.commit()
        assert outcome.accepted + outcome.duplicates == len(observations)
    async with sessions() as session:
        raw = list(
            (
                await session.exec(
                    select(Observation).where(col(Observation.partner_id).in_(partners))
                )
            ).all()
        )
        stored = (
            await session.exec(select(Aggregate).where(col(Aggregate.partner_id).in_(partners)))
        ).all()
    assert len({row.id for row in raw}) == len(raw)
    actual = {
        (a.partner_id, a.kpi, a.granularity, a.period): (
            a.total_micro,
            a.count,
            a.min_micro,
            a.max_micro,
            a.last_micro,
        )
        for a in stored
    }
    assert actual == expected_aggregates(raw)
