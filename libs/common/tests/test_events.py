"""Events through real NATS JetStream: transactional outbox, relay across a broker outage,
idempotent consumers and dead letters."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import nats.js.errors
import pytest
from channel_common import (
    DeadLetter,
    OutboxMessage,
    create_engine,
    create_sessionmaker,
)
from channel_common.testing import (
    NatsServer,
    app_client,
    bearer,
    eventually,
    publish_event,
    read_stream,
)
from sqlmodel import select

from .widgets import (
    SLOW_STARTED,
    SOURCE,
    WIDGET_CREATED,
    Tally,
    Widget,
    WidgetSettings,
    create_widgets_app,
)

WRITE = ["partners:write", "partners:read"]


@pytest.fixture
def app_settings(settings: WidgetSettings, broker: NatsServer) -> WidgetSettings:
    return settings.model_copy(update={"nats_url": broker.url})


@pytest.fixture
async def rows(app_settings: WidgetSettings) -> AsyncIterator[Callable[[type], Awaitable[list]]]:
    """Read all rows of a table straight from the service's database."""
    engine = create_engine(app_settings.database_url)
    sessions = create_sessionmaker(engine)

    async def read(model: type) -> list:  # type: ignore[type-arg]
        async with sessions() as session:
            return list((await session.exec(select(model))).all())

    yield read
    await engine.dispose()


async def publish_raw(url: str, *, name: str, event_id: str, msg_id: str | None = None) -> None:
    """Publish a widget event as another service would."""
    await publish_event(
        url,
        event_type=WIDGET_CREATED,
        data={"name": name},
        source=SOURCE,
        event_id=event_id,
        msg_id=msg_id,
    )


class TestTransactionalOutbox:
    async def test_change_and_event_commit_together(
        self, app_settings: WidgetSettings, rows: Callable[[type], Awaitable[list]]
    ) -> None:
        async with app_client(create_widgets_app(app_settings)) as client:
            response = await client.post(
                "/api/v1/widgets", json={"name": "a"}, headers=bearer(app_settings, WRITE)
            )
        assert response.status_code == 201
        (outbox,) = await rows(OutboxMessage)
        assert outbox.subject == WIDGET_CREATED
        assert json.loads(outbox.payload)["id"] == response.json()["id"]
        assert [w.name for w in await rows(Widget)] == ["a"]

    async def test_failed_change_leaves_no_event(
        self, app_settings: WidgetSettings, rows: Callable[[type], Awaitable[list]]
    ) -> None:
        async with app_client(create_widgets_app(app_settings)) as client:
            response = await client.post(
                "/api/v1/widgets",
                json={"name": "explode-after-event"},
                headers=bearer(app_settings, WRITE),
            )
        assert response.status_code == 500
        assert "boom" not in response.text
        assert await rows(OutboxMessage) == []
        assert await rows(Widget) == []


class TestRelay:
    async def test_publishes_once_with_cloudevents_headers(
        self,
        app_settings: WidgetSettings,
        broker: NatsServer,
        rows: Callable[[type], Awaitable[list]],
    ) -> None:
        async with app_client(create_widgets_app(app_settings)) as client:
            created = await client.post(
                "/api/v1/widgets", json={"name": "a"}, headers=bearer(app_settings, WRITE)
            )

            async def sent() -> bool:
                return all(row.sent_at is not None for row in await rows(OutboxMessage))

            await eventually(sent)
        (message,) = await read_stream(broker.url, WIDGET_CREATED, expected=1)
        (outbox,) = await rows(OutboxMessage)
        headers = message.headers
        assert headers["ce-specversion"] == "1.0"
        assert headers["ce-type"] == WIDGET_CREATED
        assert headers["ce-source"] == SOURCE
        assert headers["ce-id"] == headers["Nats-Msg-Id"] == outbox.event_id
        assert headers["ce-time"].endswith("Z")
        assert json.loads(message.data)["id"] == created.json()["id"]

    async def test_events_wait_while_nats_is_down(
        self,
        app_settings: WidgetSettings,
        broker: NatsServer,
        rows: Callable[[type], Awaitable[list]],
    ) -> None:
        async with app_client(create_widgets_app(app_settings)) as client:
            await eventually(lambda: _ready(client))
            broker.stop()
            await eventually(lambda: _unready(client))
            response = await client.post(
                "/api/v1/widgets", json={"name": "while-down"}, headers=bearer(app_settings, WRITE)
            )
            assert response.status_code == 201
            await asyncio.sleep(0.5)
            (waiting,) = await rows(OutboxMessage)
            assert waiting.sent_at is None
            broker.start()

            async def sent() -> bool:
                return all(row.sent_at is not None for row in await rows(OutboxMessage))

            await eventually(sent, timeout=30)
            await eventually(lambda: _ready(client))
        messages = await read_stream(broker.url, WIDGET_CREATED, expected=1)
        assert [json.loads(m.data)["name"] for m in messages] == ["while-down"]


async def _ready(client) -> bool:  # type: ignore[no-untyped-def]
    return (await client.get("/readyz")).status_code == 200


async def _unready(client) -> bool:  # type: ignore[no-untyped-def]
    response = await client.get("/readyz")
    return response.status_code == 503 and response.headers["retry-after"] == "5"


@pytest.mark.usefixtures("streams")
class TestIdempotentConsumer:
    async def test_redelivered_event_is_applied_once(
        self,
        app_settings: WidgetSettings,
        broker: NatsServer,
        rows: Callable[[type], Awaitable[list]],
    ) -> None:
        event_id = str(uuid.uuid4())
        async with app_client(create_widgets_app(app_settings)):
            # The same event twice past JetStream's de-duplication (another Nats-Msg-Id).
            await publish_raw(broker.url, name="dup", event_id=event_id)
            await publish_raw(broker.url, name="dup", event_id=event_id, msg_id="other")
            await publish_raw(broker.url, name="marker", event_id=str(uuid.uuid4()))

            async def marker_seen() -> bool:
                return any(t.name == "marker" for t in await rows(Tally))

            await eventually(marker_seen)
        tallies = {t.name: t.count for t in await rows(Tally)}
        assert tallies == {"dup": 1, "marker": 1}

    async def test_republished_duplicate_is_dropped_by_jetstream(self, broker: NatsServer) -> None:
        event_id = str(uuid.uuid4())
        await publish_raw(broker.url, name="x", event_id=event_id)
        await publish_raw(broker.url, name="x", event_id=event_id)
        messages = await read_stream(broker.url, WIDGET_CREATED, expected=2)
        assert len(messages) == 1

    async def test_poison_event_is_dead_lettered_and_the_rest_go_on(
        self,
        app_settings: WidgetSettings,
        broker: NatsServer,
        rows: Callable[[type], Awaitable[list]],
    ) -> None:
        async with app_client(create_widgets_app(app_settings)) as client:
            await publish_raw(broker.url, name="poison", event_id=str(uuid.uuid4()))
            await publish_raw(broker.url, name="after", event_id=str(uuid.uuid4()))

            async def dead_lettered() -> bool:
                return len(await rows(DeadLetter)) == 1

            await eventually(dead_lettered)
            metrics = (await client.get("/metrics")).text
        (dead,) = await rows(DeadLetter)
        assert dead.consumer == "widgets-tally"
        assert dead.deliveries == app_settings.consumer_max_deliver
        assert "poison event" in dead.error
        assert {t.name for t in await rows(Tally)} == {"after"}
        assert 'channel_consumer_dead_letters_total{consumer="widgets-tally"}' in metrics

    async def test_consumer_resumes_after_nats_restart(
        self,
        app_settings: WidgetSettings,
        broker: NatsServer,
        rows: Callable[[type], Awaitable[list]],
    ) -> None:
        async with app_client(create_widgets_app(app_settings)) as client:
            await publish_raw(broker.url, name="before", event_id=str(uuid.uuid4()))

            async def seen(name: str) -> bool:
                return any(t.name == name for t in await rows(Tally))

            await eventually(lambda: seen("before"))
            broker.stop()
            await eventually(lambda: _unready(client))
            broker.start()
            await eventually(lambda: _ready(client))
            await publish_raw(broker.url, name="after-restart", event_id=str(uuid.uuid4()))
            await eventually(lambda: seen("after-restart"), timeout=20)

    async def test_shutdown_lets_the_event_in_hand_finish(
        self,
        app_settings: WidgetSettings,
        broker: NatsServer,
        rows: Callable[[type], Awaitable[list]],
    ) -> None:
        name = f"slow-{uuid.uuid4().hex[:8]}"
        async with app_client(create_widgets_app(app_settings)):
            await publish_raw(broker.url, name=name, event_id=str(uuid.uuid4()))

            async def started() -> bool:
                return name in SLOW_STARTED

            await eventually(started)
        # The app stopped while the handler slept: it finished, committed and acked.
        assert {t.name: t.count for t in await rows(Tally)} == {name: 1}
        connection = await nats.connect(broker.url)
        try:
            info = await connection.jetstream().consumer_info("PARTNER", "widgets-tally")
        finally:
            await connection.close()
        assert (info.num_ack_pending, info.num_pending) == (0, 0)

    async def test_deliveries_cut_off_by_crashes_do_not_lose_the_event(
        self,
        app_settings: WidgetSettings,
        broker: NatsServer,
        rows: Callable[[type], Awaitable[list]],
    ) -> None:
        # A fetched batch uses a delivery of every message in it: a process killed while
        # holding one used to let JetStream drop the message after max_deliver (R2, soak size).
        settings = app_settings.model_copy(update={"consumer_ack_wait_seconds": 0.5})
        async with app_client(create_widgets_app(settings)):
            pass  # the durable consumer exists now
        name = f"cut-{uuid.uuid4().hex[:8]}"
        await publish_raw(broker.url, name=name, event_id=str(uuid.uuid4()))
        connection = await nats.connect(broker.url)
        try:
            js = connection.jetstream()
            crashed = await js.pull_subscribe_bind(durable="widgets-tally", stream="PARTNER")
            for _ in range(settings.consumer_max_deliver):  # fetched, never acked
                message = await _fetch_one(crashed)
                assert json.loads(message.data)["name"] == name
            await crashed.unsubscribe()
        finally:
            await connection.close()

        async with app_client(create_widgets_app(settings)):

            async def applied() -> bool:
                return any(t.name == name for t in await rows(Tally))

            await eventually(applied)
        assert await rows(DeadLetter) == []

    async def test_an_existing_consumer_loses_its_broker_delivery_limit(
        self, app_settings: WidgetSettings, broker: NatsServer
    ) -> None:
        connection = await nats.connect(broker.url)
        try:
            js = connection.jetstream()
            async with app_client(create_widgets_app(app_settings)):
                pass  # streams and the consumer exist
            await js.delete_consumer("PARTNER", "widgets-tally")
            await js.add_consumer(
                "PARTNER",
                durable_name="widgets-tally",
                ack_policy="explicit",
                max_deliver=5,
                filter_subjects=["partner.widget.>"],
            )
            async with app_client(create_widgets_app(app_settings)):

                async def updated() -> bool:
                    info = await js.consumer_info("PARTNER", "widgets-tally")
                    return info.config.max_deliver == -1

                await eventually(updated)
        finally:
            await connection.close()


async def _fetch_one(sub: Any) -> Any:
    """The next delivery of a pull subscription, across the broker's transient 503s."""
    for _ in range(20):
        try:
            (message,) = await sub.fetch(batch=1, timeout=2)
            return message
        except (TimeoutError, nats.js.errors.ServiceUnavailableError):
            await asyncio.sleep(0.2)
    raise AssertionError("no delivery within 20 attempts")
