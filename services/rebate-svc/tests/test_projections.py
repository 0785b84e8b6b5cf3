"""The local projections: highest version wins, duplicates and reordering are harmless."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from channel_common import SQLModelSession
from rebate_svc.models import KpiAggregate, PartnerReplica
from sqlalchemy.ext.asyncio import async_sessionmaker

if TYPE_CHECKING:
    from conftest import Feed


class TestKpiAggregates:
    async def test_keeps_the_highest_version_whatever_the_order(
        self, feed: Feed, make_update: Any, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        pid = str(uuid.uuid4())
        await feed.aggregates(make_update(pid, "2026-07", "100.50", version=5))
        await feed.aggregates(make_update(pid, "2026-07", "999", version=3))  # older, late
        await feed.aggregates(make_update(pid, "2026-07", "100.50", version=5))  # duplicate
        await feed.aggregates(
            make_update(pid, "2026-07", "1", version=7), make_update(pid, "2026-07", "2", version=6)
        )
        async with sessions() as session:
            row = await session.get(KpiAggregate, (uuid.UUID(pid), "sales_amount", "2026-07"))
        assert row is not None
        assert (row.value, row.version) == ("1", 7)

    async def test_ignores_daily_aggregates(
        self, feed: Feed, make_update: Any, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        pid = str(uuid.uuid4())
        await feed.aggregates(make_update(pid, "2026-07-15", "5", granularity="day"))
        async with sessions() as session:
            assert (
                await session.get(KpiAggregate, (uuid.UUID(pid), "sales_amount", "2026-07-15"))
                is None
            )


class TestPartners:
    async def test_keeps_the_newest_snapshot(
        self, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        partner = await feed.partner(version=3, tier="gold")
        await feed.partner(id=partner["id"], version=2, tier="silver")  # older, late
        await feed.partner(id=partner["id"], version=4, status="suspended", extra_field="x")
        async with sessions() as session:
            row = await session.get(PartnerReplica, uuid.UUID(partner["id"]))
        assert row is not None
        assert (row.tier, row.status, row.version) == ("gold", "suspended", 4)
