"""Events on real NATS JetStream: each change puts exactly one event on the PARTNER stream,
with CloudEvents headers and the full partner snapshot."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from channel_common import OutboxMessage, SQLModelSession
from channel_common.testing import NatsServer, eventually, read_stream
from partner_svc.events import PUBLISHED, SOURCE
from partner_svc.settings import Settings
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

if TYPE_CHECKING:
    from conftest import Api


@pytest.fixture
def settings(settings: Settings, broker: NatsServer) -> Settings:
    """The service's settings, on this test's own broker."""
    return settings.model_copy(update={"nats_url": broker.url})


class TestPublishedEvents:
    async def test_every_change_is_announced_exactly_once(
        self, api: Api, broker: NatsServer, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        created = await api.request(
            "POST",
            "/partners",
            json={"code": "EV-1", "name": "Events Ltd", "type": "agent", "region": "CN-GD"},
            headers={"Idempotency-Key": "ev-1"},
        )
        pid = created.json()["id"]
        replay = await api.request(
            "POST",
            "/partners",
            json={"code": "EV-1", "name": "Events Ltd", "type": "agent", "region": "CN-GD"},
            headers={"Idempotency-Key": "ev-1"},
        )
        assert replay.headers["idempotent-replayed"] == "true"
        await api.patch(pid, {"name": "Events Group", "qualification": {"service_staff": 3}})
        await api.transition(pid, "onboarding", reason="contract")
        api.problem(await api.transition(pid, "prospect"), 409)  # refused: no event
        await api.set_tier(pid, "silver", reason="volume")
        await api.put_territories(
            pid, {"territories": [{"region": "CN-GD", "exclusive": True}], "reason": "deal"}
        )

        async def drained() -> bool:
            async with sessions() as session:
                rows = (await session.exec(select(OutboxMessage))).all()
            return len(rows) == 5 and all(row.sent_at is not None for row in rows)

        await eventually(drained)
        messages = await read_stream(broker.url, "partner.>")

        assert [m.subject for m in messages] == [
            "partner.registered.v1",
            "partner.updated.v1",
            "partner.status.changed.v1",
            "partner.tier.changed.v1",
            "partner.territories.changed.v1",
        ]
        ids = set()
        for message in messages:
            headers = message.headers
            assert headers["ce-specversion"] == "1.0"
            assert headers["ce-type"] == message.subject
            assert headers["ce-source"] == SOURCE
            assert headers["ce-subject"] == pid
            assert headers["ce-time"].endswith("Z")
            assert headers["Nats-Msg-Id"] == headers["ce-id"]
            ids.add(headers["ce-id"])
        assert len(ids) == 5

        data = [json.loads(m.data) for m in messages]
        for message, payload in zip(messages, data, strict=True):
            PUBLISHED[message.subject].model_validate(payload)  # matches its published model
            assert payload["id"] == pid and payload["code"] == "EV-1"
        assert [d["version"] for d in data] == [1, 2, 3, 4, 5]
        registered, updated, moved, tiered, zoned = data
        assert "previous" not in registered and registered["status"] == "prospect"
        assert registered["territories"] == [] and registered["contact"]["email"] is None
        assert updated["previous"] == {
            "name": "Events Ltd",
            "qualification": {
                "registered_capital": None,
                "years_in_business": None,
                "service_staff": None,
            },
        }
        assert updated["name"] == "Events Group"
        assert updated["qualification"]["service_staff"] == 3
        assert (moved["previous"], moved["status"], moved["reason"]) == (
            {"status": "prospect"},
            "onboarding",
            "contract",
        )
        assert (tiered["previous"], tiered["tier"], tiered["reason"]) == (
            {"tier": "registered"},
            "silver",
            "volume",
        )
        assert zoned["previous"] == {"territories": []}
        assert zoned["territories"] == [{"region": "CN-GD", "exclusive": True}]
        assert zoned["reason"] == "deal" and zoned["tier"] == "silver"


class TestEventContract:
    def test_every_subject_has_a_model_with_the_snapshot(self) -> None:
        assert set(PUBLISHED) == {
            "partner.registered.v1",
            "partner.updated.v1",
            "partner.status.changed.v1",
            "partner.tier.changed.v1",
            "partner.territories.changed.v1",
        }
        for model in PUBLISHED.values():
            schema = model.model_json_schema(mode="serialization")
            assert {"id", "code", "tier", "status", "territories", "version"} <= set(
                schema["properties"]
            )
            assert "reason" in schema["properties"]
