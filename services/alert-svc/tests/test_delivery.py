"""The delivery worker with a fake transport: Standard Webhooks signatures, retries with
capped backoff until a final failure, and the SSRF guard at send time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from alert_svc.models import Webhook, WebhookAttempt, WebhookDelivery
from alert_svc.service.delivery import _backoff, sign
from alert_svc.settings import Settings
from alert_svc.workers import deliver_due
from channel_common import SQLModelSession, create_engine, create_sessionmaker
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select


@pytest.fixture
async def quiet_sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[SQLModelSession]]:
    """Sessions on the database with no app (and no background worker) running."""
    engine = create_engine(settings.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def queue_one(sessions: async_sessionmaker[SQLModelSession], url: str) -> None:
    async with sessions() as session:
        webhook = Webhook(
            url=url, secret="whsec_" + "QUJD" * 8, events=["alert.fired"], min_severity="info"
        )
        session.add(webhook)
        await session.flush()
        session.add(
            WebhookDelivery(
                webhook_id=webhook.id,
                alert_id=webhook.id,
                event_type="alert.fired",
                payload='{"type":"alert.fired"}',
                state="pending",
            )
        )
        await session.commit()


async def state(sessions: async_sessionmaker[SQLModelSession]) -> tuple[str, list[int | None]]:
    async with sessions() as session:
        delivery = (await session.exec(select(WebhookDelivery))).one()
        attempts = (
            await session.exec(select(WebhookAttempt).order_by(WebhookAttempt.number))
        ).all()
    return delivery.state, [a.status_code for a in attempts]


class TestSignature:
    def test_matches_the_standard_webhooks_test_vector(self) -> None:
        signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            body='{"test": 2432232314}',
        )
        assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


class TestRetries:
    def test_backoff_doubles_up_to_the_cap(self, settings: Settings) -> None:
        tuned = settings.model_copy(
            update={"webhook_backoff_base_seconds": 2, "webhook_backoff_max_seconds": 10}
        )
        assert [_backoff(n, tuned) for n in (1, 2, 3, 4, 9)] == [
            timedelta(seconds=s) for s in (2, 4, 8, 10, 10)
        ]

    async def test_gives_up_after_the_last_attempt(
        self, settings: Settings, quiet_sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        tuned = settings.model_copy(
            update={"webhook_max_attempts": 3, "webhook_backoff_base_seconds": 0}
        )
        seen: list[httpx.Request] = []

        def failing(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(503)

        await queue_one(quiet_sessions, "http://127.0.0.1:9/hook")
        async with httpx.AsyncClient(transport=httpx.MockTransport(failing)) as client:
            for _ in range(5):
                await deliver_due(quiet_sessions, settings=tuned, client=client)
        assert await state(quiet_sessions) == ("failed", [503, 503, 503])
        assert seen[0].headers["webhook-signature"].startswith("v1,")
        assert seen[0].headers["host"] == "127.0.0.1:9"
        assert json.loads(seen[0].content) == {"type": "alert.fired"}


class TestSendTimeGuard:
    async def test_refuses_loopback_unless_allowed(
        self, settings: Settings, quiet_sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        strict = settings.model_copy(update={"allow_loopback_webhooks": False})
        calls: list[httpx.Request] = []
        await queue_one(quiet_sessions, "http://127.0.0.1:9/hook")
        transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))
        async with httpx.AsyncClient(transport=transport) as client:
            await deliver_due(quiet_sessions, settings=strict, client=client)
        assert calls == []
        assert await state(quiet_sessions) == ("failed", [None])
        async with quiet_sessions() as session:
            attempt = (await session.exec(select(WebhookAttempt))).one()
        assert attempt.error is not None and attempt.error.startswith("refused")

    async def test_an_unparsable_stored_url_fails_alone_without_stalling_the_batch(
        self, settings: Settings, quiet_sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        # Found by the battery (S7): httpx refuses the octal host `0177.0.0.1`; the error
        # escaped deliver_due, so the rest of the batch stayed leased and nothing was logged.
        strict = settings.model_copy(update={"allow_loopback_webhooks": False})
        calls: list[httpx.Request] = []
        await queue_one(quiet_sessions, "http://0177.0.0.1/hook")
        await queue_one(quiet_sessions, "http://10.0.0.1/hook")
        transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))
        async with httpx.AsyncClient(transport=transport) as client:
            assert await deliver_due(quiet_sessions, settings=strict, client=client) == 2
        assert calls == []
        async with quiet_sessions() as session:
            deliveries = (await session.exec(select(WebhookDelivery))).all()
            errors = [a.error or "" for a in (await session.exec(select(WebhookAttempt))).all()]
        assert [d.state for d in deliveries] == ["failed", "failed"]
        assert sorted(e.split(" (")[0].split(":")[0] for e in errors) == ["refused", "refused"]
        assert any("invalid URL" in e for e in errors)
