"""kpi-svc over a real NATS JetStream: the partner replica from `partner.*` events, batches
announced once each in chunks, and `kpi.ingest.v1` handled like REST."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from channel_common import InboxEntry, OutboxMessage, SQLModelSession, build_headers
from channel_common.testing import NatsServer, app_client, eventually
from kpi_svc.app import create_app
from kpi_svc.models import Observation, Partner
from kpi_svc.settings import Settings
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy.ext.asyncio import async_sessionmaker

from .conftest import Kpi, make_partner_snapshot, obs

PARTNER_SOURCE = "urn:channel-suite:partner-svc"
Sessions = async_sessionmaker[SQLModelSession]


@pytest.fixture
def live(settings: Settings, broker: NatsServer, streams: None) -> Settings:
    return settings.model_copy(update={"nats_url": broker.url, "event_max_bytes": 8 * 1024})


@contextlib.asynccontextmanager
async def running(settings: Settings, sessions: Sessions) -> AsyncIterator[Kpi]:
    """The app on the test's broker (the only app on this database, so the only relay)."""
    async with app_client(create_app(settings)) as client:
        yield Kpi(client, settings, sessions)


async def publish(
    url: str,
    subject: str,
    data: dict[str, Any],
    *,
    source: str,
    event_id: str | None = None,
    msg_id: str | None = None,
) -> None:
    """Publish an event as another service would (CloudEvents binary mode)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.add_stream(
            name=subject.split(".")[0].upper(), subjects=[f"{subject.split('.')[0]}.>"]
        )
        headers = build_headers(event_type=subject, source=source, event_id=event_id)
        if msg_id is not None:
            headers["Nats-Msg-Id"] = msg_id
        await js.publish(subject, json.dumps(data).encode(), headers=headers)
    finally:
        await nc.close()


async def stream_messages(url: str, subject: str, expected: int) -> list[Any]:
    """The messages on `subject` (an ephemeral consumer from the start of its stream), once
    `expected` have arrived — then a little longer, so that extra ones would show."""
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().pull_subscribe(
            subject, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        messages: list[Any] = []
        for _ in range(40):
            try:
                messages += await sub.fetch(batch=100, timeout=0.25)
            except TimeoutError:
                if len(messages) >= expected:
                    return messages
        return messages
    finally:
        await nc.close()


async def all_sent(kpi: Kpi) -> bool:
    rows = await kpi.rows(OutboxMessage)
    return bool(rows) and all(row.sent_at is not None for row in rows)


class TestPartnerReplicaFromEvents:
    async def test_events_published_before_start_build_the_replica(
        self, live: Settings, broker: NatsServer, sessions: Sessions
    ) -> None:
        snapshot = make_partner_snapshot(status="prospect")
        await publish(broker.url, "partner.registered.v1", snapshot, source=PARTNER_SOURCE)
        changed = {**snapshot, "tier": "platinum", "version": 3, "previous": {"tier": "gold"}}
        await publish(broker.url, "partner.tier.changed.v1", changed, source=PARTNER_SOURCE)
        late = {**snapshot, "status": "active", "version": 2, "reason": "late"}
        await publish(broker.url, "partner.status.changed.v1", late, source=PARTNER_SOURCE)
        async with running(live, sessions) as kpi:

            async def all_applied() -> bool:
                return len(await kpi.rows(InboxEntry)) == 3

            await eventually(all_applied)
            (partner,) = await kpi.rows(Partner)
            assert (partner.tier, partner.status, partner.version) == (
                "platinum",
                "prospect",
                3,
            )


class TestPublishedEvents:
    async def test_a_batch_is_announced_once_in_chunks(
        self, live: Settings, broker: NatsServer, sessions: Sessions
    ) -> None:
        async with running(live, sessions) as kpi:
            partner = await kpi.partner()
            days = [f"2026-10-{1 + i % 20:02d}" for i in range(300)]
            answer = await kpi.ingest(
                [obs(partner, value=str(i), occurred_on=days[i]) for i in range(300)]
            )
            assert answer["accepted"] == 300
            await eventually(lambda: all_sent(kpi))
            outbox = await kpi.rows(OutboxMessage)
        chunks = {
            subject: sum(row.subject == subject for row in outbox)
            for subject in ("kpi.observations.recorded.v1", "kpi.aggregates.updated.v1")
        }
        recorded, updated = [
            await stream_messages(broker.url, subject, count) for subject, count in chunks.items()
        ]
        assert (len(recorded), len(updated)) == tuple(chunks.values())
        assert len(recorded) > 1 and len(updated) >= 1
        messages = recorded + updated
        assert all(len(m.data) <= live.event_max_bytes for m in messages)
        assert len({m.headers["ce-id"] for m in messages}) == len(messages)
        bodies = [json.loads(m.data) for m in recorded]
        assert sum(len(b["observations"]) for b in bodies) == 300
        assert len({o["id"] for b in bodies for o in b["observations"]}) == 300
        updates = [u for m in updated for u in json.loads(m.data)["updates"]]
        assert len(updates) == 21 and {m.headers["ce-type"] for m in updated} == {
            "kpi.aggregates.updated.v1"
        }


class TestIngestSubject:
    async def test_stores_and_rejects_like_rest(
        self, live: Settings, broker: NatsServer, sessions: Sessions
    ) -> None:
        partner = str(uuid.uuid4())
        good_id = str(uuid.uuid4())
        batch = {
            "observations": [
                obs(partner, id=good_id, value="12.5"),
                obs(partner, "conversion_rate", value="2"),
                obs(str(uuid.uuid4())),
                obs(partner, "units_sold", value="3"),
            ]
        }
        event_id = str(uuid.uuid4())
        async with running(live, sessions) as kpi:
            await kpi.apply_snapshot(make_partner_snapshot(id=partner))
            await publish(broker.url, "kpi.ingest.v1", batch, source="urn:erp", event_id=event_id)
            # The same event again past JetStream's de-duplication: applied once (inbox).
            await publish(
                broker.url,
                "kpi.ingest.v1",
                batch,
                source="urn:erp",
                event_id=event_id,
                msg_id="again",
            )
            await publish(broker.url, "kpi.ingest.v1", {"observations": "nope"}, source="urn:erp")

            async def handled() -> bool:
                subjects = [row.subject for row in await kpi.rows(OutboxMessage)]
                return subjects.count("kpi.ingest.rejected.v1") == 2 and await all_sent(kpi)

            await eventually(handled)
            stored = {(str(o.id), o.kpi, o.value_micro) for o in await kpi.rows(Observation)}
        assert len(stored) == 2
        assert (good_id, "sales_amount", 12_500_000) in stored
        assert {(kpi_key, value) for _, kpi_key, value in stored} == {
            ("sales_amount", 12_500_000),
            ("units_sold", 3_000_000),
        }
        rejected = [
            json.loads(m.data)
            for m in await stream_messages(broker.url, "kpi.ingest.rejected.v1", 2)
        ]
        by_message = {r["ingest_event_id"]: r for r in rejected}
        first = by_message[event_id]
        assert (first["accepted"], first["duplicates"], first["ingest_source"]) == (2, 0, "urn:erp")
        assert [(r["index"], r["code"]) for r in first["rejected"]] == [
            (1, "out_of_range"),
            (2, "unknown_partner"),
        ]
        (invalid,) = [r for key, r in by_message.items() if key != event_id]
        assert [(r["index"], r["code"]) for r in invalid["rejected"]] == [(None, "invalid_message")]
