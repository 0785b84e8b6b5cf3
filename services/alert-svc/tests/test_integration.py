"""End to end on real NATS JetStream with a real HTTP receiver on loopback: KPI events fire
and resolve alerts, signed webhooks arrive once, silences mute, failed deliveries are retried,
and a redelivered event fires nothing twice."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import nats
import pytest
import uvicorn
from alert_svc.app import create_app
from alert_svc.settings import Settings
from channel_common import build_headers, utcnow
from channel_common.testing import NatsServer, app_client, bearer, eventually, free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WRITE = ("alerts:read", "alerts:write")


@dataclass
class Receiver:
    """A webhook receiver: records every request; fails the first `failures` with 500."""

    port: int
    failures: int = 0
    received: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        """The bodies answered with 200."""
        return [json.loads(body) for _, body, status in self.received if status == 200]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        status = 500 if self.failures > 0 else 200
        self.failures -= 1
        self.received.append((dict(request.headers), body, status))
        return Response(status_code=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver(port=free_port())
    app = Starlette(routes=[Route("/hook", hook.handle, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=hook.port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(_started(server), timeout=5)
    yield hook
    server.should_exit = True
    await task


@dataclass
class Suite:
    client: httpx.AsyncClient
    headers: dict[str, str]
    publish: Callable[..., Awaitable[None]]

    async def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(f"/api/v1{url}", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def get(self, url: str, **params: Any) -> Any:
        response = await self.client.get(f"/api/v1{url}", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def suite(settings: Settings, broker: NatsServer) -> AsyncIterator[Suite]:
    app = create_app(settings.model_copy(update={"nats_url": broker.url}))
    async with app_client(app) as client:
        assert await app.state.bus.wait_ready(10)
        nc = await nats.connect(broker.url)
        js = nc.jetstream()

        async def publish(
            subject: str,
            data: dict[str, Any],
            event_id: str | None = None,
            msg_id: str | None = None,
        ) -> None:
            headers = build_headers(event_type=subject, source="urn:test", event_id=event_id)
            if msg_id is not None:  # a redelivery JetStream's duplicate window would not drop
                headers["Nats-Msg-Id"] = msg_id
            await js.publish(subject, json.dumps(data).encode(), headers=headers)

        yield Suite(client, bearer(settings, WRITE), publish)
        await nc.close()


def aggregate(partner_id: str, period: str, value: str, version: int) -> dict[str, Any]:
    update = {
        "partner_id": partner_id,
        "kpi": "sales_amount",
        "granularity": "month",
        "period": period,
        "value": value,
        "count": 3,
        "version": version,
    }
    return {"updates": [update]}


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification, as a receiver does it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(s == f"v1,{expected}" for s in headers["webhook-signature"].split())


async def setup(suite: Suite, receiver: Receiver) -> tuple[str, str]:
    """A webhook for `receiver`, a rule `sales_amount < 1000`, and a partner; (secret, id)."""
    hook = await suite.post("/webhooks", {"url": receiver.url})
    rule = {
        "name": "low sales",
        "kpi": "sales_amount",
        "condition": {"type": "threshold", "op": "lt", "value": "1000"},
    }
    await suite.post("/alert-rules", rule)
    partner_id = str(uuid.uuid4())
    await suite.publish(
        "partner.registered.v1",
        {
            "id": partner_id,
            "code": "E2E-1",
            "tier": "gold",
            "type": "agent",
            "region": "CN-GD",
            "status": "active",
            "territories": [],
            "version": 1,
        },
    )
    return hook["secret"], partner_id


class TestEndToEnd:
    async def test_falling_kpi_fires_once_signed_and_recovery_resolves_once(
        self, suite: Suite, receiver: Receiver
    ) -> None:
        secret, pid = await setup(suite, receiver)
        await suite.publish("kpi.aggregates.updated.v1", aggregate(pid, "2026-09", "1500", 1))
        await suite.publish("kpi.aggregates.updated.v1", aggregate(pid, "2026-10", "400", 2), "e-2")
        await eventually(lambda: _count(receiver, 1))
        headers, body, _ = receiver.received[0]
        assert verify(secret, headers, body)
        fired = json.loads(body)
        assert fired["type"] == "alert.fired" and fired["data"]["value"] == "400"
        assert fired["data"]["partner_id"] == pid and fired["timestamp"].endswith("Z")
        # Redelivered (same ce-id, JetStream not deduplicating it): fires nothing again.
        await suite.publish(
            "kpi.aggregates.updated.v1", aggregate(pid, "2026-10", "400", 2), "e-2", "redeliver"
        )
        await suite.publish("kpi.aggregates.updated.v1", aggregate(pid, "2026-11", "1800", 3))
        await eventually(lambda: _count(receiver, 2))
        await asyncio.sleep(0.5)
        assert [d["type"] for d in receiver.delivered()] == ["alert.fired", "alert.resolved"]
        alerts = (await suite.get("/alerts"))["items"]
        assert [a["state"] for a in alerts] == ["resolved"]

    async def test_a_silence_records_the_alert_but_sends_nothing(
        self, suite: Suite, receiver: Receiver
    ) -> None:
        _, pid = await setup(suite, receiver)
        await suite.post(
            "/silences",
            {
                "matchers": {"partner_id": pid},
                "created_by": "ops-alice",
                "comment": "migration",
                "ends_at": (utcnow() + timedelta(hours=1)).isoformat(),
            },
        )
        await suite.publish("kpi.aggregates.updated.v1", aggregate(pid, "2026-10", "1", 1))

        async def recorded() -> bool:
            return bool((await suite.get("/alerts"))["items"])

        await eventually(recorded)
        (alert,) = (await suite.get("/alerts"))["items"]
        assert alert["silenced"] is True and alert["state"] == "firing"
        await asyncio.sleep(0.5)
        assert receiver.received == []

    async def test_a_failing_receiver_gets_the_delivery_on_the_third_attempt(
        self, suite: Suite, receiver: Receiver
    ) -> None:
        receiver.failures = 2
        _, pid = await setup(suite, receiver)
        await suite.publish("kpi.aggregates.updated.v1", aggregate(pid, "2026-10", "1", 1))
        await eventually(lambda: _delivered(receiver, 1))
        assert [status for _, _, status in receiver.received] == [500, 500, 200]
        assert len({h["webhook-id"] for h, _, _ in receiver.received}) == 1
        hook = (await suite.get("/webhooks"))["items"][0]

        async def logged() -> bool:
            items = (await suite.get(f"/webhooks/{hook['id']}/deliveries"))["items"]
            return bool(items) and items[0]["state"] == "delivered"

        await eventually(logged)
        (delivery,) = (await suite.get(f"/webhooks/{hook['id']}/deliveries"))["items"]
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]


def _started(server: uvicorn.Server) -> Callable[[], Awaitable[bool]]:
    async def started() -> bool:
        return bool(server.started)

    return started


async def _count(receiver: Receiver, n: int) -> bool:
    return len(receiver.received) >= n


async def _delivered(receiver: Receiver, n: int) -> bool:
    return len(receiver.delivered()) >= n
