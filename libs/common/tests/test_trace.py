"""Trace context rides in `traceparent`: from a request into the events it writes, and from a
consumed event into the events its handler writes; logs carry the trace id."""

from __future__ import annotations

import json

import pytest
from channel_common import OutboxMessage, SQLModelSession
from channel_common._logging import child_traceparent, parse_traceparent, trace_context
from channel_common.testing import (
    NatsServer,
    app_client,
    bearer,
    eventually,
    publish_event,
    read_stream,
)
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

from .widgets import SOURCE, WIDGET_CREATED, WIDGET_ECHOED, WidgetSettings, create_widgets_app

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


class TestTraceparent:
    def test_parses_a_valid_one(self) -> None:
        assert parse_traceparent(TRACEPARENT) == (TRACE_ID, "01")

    @pytest.mark.parametrize(
        "value",
        [
            None,
            "",
            "garbage",
            f"ff-{TRACE_ID}-b7ad6b7169203331-01",  # version ff is forbidden
            f"00-{'0' * 32}-b7ad6b7169203331-01",  # all-zero trace id
            f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent id
            f"00-{TRACE_ID.upper()}-b7ad6b7169203331-01",  # hex must be lower case
        ],
    )
    def test_refuses_an_invalid_one(self, value: str | None) -> None:
        assert parse_traceparent(value) is None

    def test_an_event_continues_the_trace_with_a_span_of_its_own(self) -> None:
        assert child_traceparent() is None
        with trace_context(TRACEPARENT):
            first, second = child_traceparent(), child_traceparent()
        assert first is not None and second is not None
        assert parse_traceparent(first) == parse_traceparent(second) == (TRACE_ID, "01")
        assert len({first, second, TRACEPARENT}) == 3
        assert child_traceparent() is None


async def _outbox(sessions: async_sessionmaker[SQLModelSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.exec(select(OutboxMessage))).all())


@pytest.fixture
def app_settings(settings: WidgetSettings, broker: NatsServer) -> WidgetSettings:
    return settings.model_copy(update={"nats_url": broker.url})


async def test_a_requests_trace_rides_in_its_events(
    app_settings: WidgetSettings, broker: NatsServer
) -> None:
    headers = bearer(app_settings, ["partners:write"])
    async with app_client(create_widgets_app(app_settings)) as client:
        traced = await client.post(
            "/api/v1/widgets", json={"name": "t"}, headers=headers | {"traceparent": TRACEPARENT}
        )
        untraced = await client.post("/api/v1/widgets", json={"name": "u"}, headers=headers)
        assert (traced.status_code, untraced.status_code) == (201, 201)
        messages = await read_stream(broker.url, WIDGET_CREATED, expected=2)
    by_name = {json.loads(m.data)["name"]: m.headers or {} for m in messages}
    assert parse_traceparent(by_name["t"].get("traceparent")) == (TRACE_ID, "01")
    assert by_name["t"]["traceparent"] != TRACEPARENT  # a span of its own
    assert "traceparent" not in by_name["u"]


@pytest.mark.usefixtures("streams")
async def test_a_consumed_events_trace_rides_in_the_events_its_handler_writes(
    app_settings: WidgetSettings, sessions: async_sessionmaker[SQLModelSession]
) -> None:
    async with app_client(create_widgets_app(app_settings)):
        with trace_context(TRACEPARENT):
            await publish_event(
                app_settings.nats_url,
                event_type=WIDGET_CREATED,
                data={"name": "echo-1"},
                source=SOURCE,
            )

        async def echoed() -> bool:
            return any(row.subject == WIDGET_ECHOED for row in await _outbox(sessions))

        await eventually(echoed)
    (echo,) = [row for row in await _outbox(sessions) if row.subject == WIDGET_ECHOED]
    assert parse_traceparent(json.loads(echo.headers).get("traceparent")) == (TRACE_ID, "01")
