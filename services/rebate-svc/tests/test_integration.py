"""End to end on a real NATS JetStream: partner and KPI events in, statements and
rebate events out."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any

import nats
import pytest
from channel_common import build_headers
from channel_common.testing import NatsServer, eventually
from nats.js.api import ConsumerConfig, DeliverPolicy
from rebate_svc.settings import Settings

if TYPE_CHECKING:
    from conftest import Api


# Waits on the real broker: generous, since a loaded machine is slow and a pass costs nothing.
SETTLE = 60.0


class Bus:
    """Publishes events as partner-svc and kpi-svc would, and reads the REBATE stream."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.nc: Any = None

    async def publish(self, subject: str, data: Any, event_id: str | None = None) -> None:
        headers = build_headers(event_type=subject, source="urn:test", event_id=event_id)
        await self.nc.jetstream().publish(subject, json.dumps(data).encode(), headers=headers)

    async def has_streams(self, *names: str) -> bool:
        try:
            for name in names:
                await self.nc.jetstream().stream_info(name)
        except Exception:
            return False
        return True

    async def rebate_events(self, subject: str) -> list[Any]:
        """Every event of `subject` on the REBATE stream so far."""
        sub = await self.nc.jetstream().pull_subscribe(
            subject, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        messages: list[Any] = []
        try:
            while True:  # a generous first wait: a slow server must not read as "no events"
                messages += await sub.fetch(batch=100, timeout=0.3 if messages else 2)
        except TimeoutError:
            pass
        finally:
            await sub.unsubscribe()
        return [json.loads(m.data) for m in messages]


@pytest.fixture
def settings(settings: Settings, broker: NatsServer) -> Settings:
    """The service's settings, on this test's own broker."""
    return settings.model_copy(update={"nats_url": broker.url})


@pytest.fixture
async def live(api: Api, broker: NatsServer) -> AsyncIterator[tuple[Api, Bus]]:
    """The app on this test's broker (streams declared), with a publisher beside it."""
    bus = Bus(broker.url)
    bus.nc = await nats.connect(broker.url)
    try:
        await eventually(lambda: bus.has_streams("PARTNER", "KPI", "REBATE"), timeout=SETTLE)
        yield api, bus
    finally:
        await bus.nc.close()


async def accrued(api: Api, partner_id: str) -> str | None:
    rows = (await api.request("GET", "/accruals", params={"partner_id": partner_id})).json()[
        "items"
    ]
    return rows[0]["basis_value"] if rows else None


class TestOnRealNats:
    async def test_aggregates_with_duplicates_and_reordering_give_the_right_basis(
        self, live: tuple[Api, Bus], make_partner_event: Any, make_update: Any
    ) -> None:
        api, bus = live
        await api.create_program()
        partner = make_partner_event()
        await bus.publish("partner.registered.v1", partner)
        await bus.publish("partner.updated.v1", {**partner, "version": 2, "region": "CN-GD-SZ"})
        pid = partner["id"]
        july = make_update(pid, "2026-07", "40000.00", version=10)
        await bus.publish("kpi.aggregates.updated.v1", {"updates": [july]}, event_id="kpi-1")
        await bus.publish("kpi.aggregates.updated.v1", {"updates": [july]}, event_id="kpi-1")
        stale = make_update(pid, "2026-07", "1.00", version=9)
        await bus.publish("kpi.aggregates.updated.v1", {"updates": [stale]})
        august = make_update(pid, "2026-08", "15000.50", version=11)
        await bus.publish("kpi.aggregates.updated.v1", {"updates": [august]})
        await bus.publish("kpi.aggregates.updated.v1", {"updates": [august]})  # redelivered copy

        async def settled() -> bool:
            return await accrued(api, pid) == "55000.50"

        await eventually(settled, timeout=SETTLE)
        await asyncio.sleep(0.3)
        assert await accrued(api, pid) == "55000.50"

    async def test_a_run_makes_statements_and_late_data_an_exact_adjustment(
        self, live: tuple[Api, Bus], make_partner_event: Any, make_update: Any
    ) -> None:
        api, bus = live
        program = await api.create_program()
        partner = make_partner_event()
        await bus.publish("partner.registered.v1", partner)
        pid = partner["id"]
        await bus.publish(
            "kpi.aggregates.updated.v1", {"updates": [make_update(pid, "2026-07", "100000.00")]}
        )
        await eventually(lambda: _is(accrued(api, pid), "100000.00"), timeout=SETTLE)
        (original,) = (await api.run(program["id"], "2026-Q3"))["statements"]
        assert original["amount"] == "3000.00"
        approved = await api.request("POST", f"/rebate-statements/{original['id']}/approve")
        assert approved.status_code == 200
        await bus.publish(
            "kpi.aggregates.updated.v1", {"updates": [make_update(pid, "2026-09", "52300.00")]}
        )
        await eventually(lambda: _is(accrued(api, pid), "152300.00"), timeout=SETTLE)
        (adjustment,) = (await api.run(program["id"], "2026-Q3"))["statements"]
        assert (adjustment["kind"], adjustment["amount"]) == ("adjustment", "3092.00")

        async def published() -> bool:
            created = await bus.rebate_events("rebate.statement.created.v1")
            approved = await bus.rebate_events("rebate.statement.approved.v1")
            return len(created) == 2 and len(approved) == 1

        await eventually(published, timeout=SETTLE)
        created = await bus.rebate_events("rebate.statement.created.v1")
        assert [(e["kind"], e["amount"]) for e in created] == [
            ("original", "3000.00"),
            ("adjustment", "3092.00"),
        ]

    async def test_a_tier_crossing_is_published_once(
        self, live: tuple[Api, Bus], make_partner_event: Any, make_update: Any
    ) -> None:
        api, bus = live
        await api.create_program(
            tiers=[{"from": "1000", "rate": "0.01"}, {"from": "5000", "rate": "0.02"}]
        )
        partner = make_partner_event()
        await bus.publish("partner.registered.v1", partner)
        pid = partner["id"]
        for month, value in (("2026-07", "3000"), ("2026-08", "2500"), ("2026-08", "2600")):
            await bus.publish(
                "kpi.aggregates.updated.v1", {"updates": [make_update(pid, month, value)]}
            )
        await eventually(lambda: _is(accrued(api, pid), "5600"), timeout=SETTLE)

        async def announced() -> bool:
            return len(await bus.rebate_events("rebate.accrual.updated.v1")) >= 3

        await eventually(announced, timeout=SETTLE)
        assert len(await bus.rebate_events("rebate.accrual.updated.v1")) == 3

        async def crossings() -> bool:
            return len(await bus.rebate_events("rebate.tier.reached.v1")) >= 2

        await eventually(crossings, timeout=SETTLE)
        reached = await bus.rebate_events("rebate.tier.reached.v1")
        assert [(e["partner_id"], e["tier_index"]) for e in reached] == [(pid, 0), (pid, 1)]
        assert uuid.UUID(reached[0]["program_id"])


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected
