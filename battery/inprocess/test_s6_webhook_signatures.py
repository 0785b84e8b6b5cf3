"""S6: deliveries signed by the real worker pass a reference Standard Webhooks verifier, and
every tampering — body, timestamp, id, secret — and a stale or future timestamp is rejected."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
from alert_svc.models import WebhookAttempt, WebhookDelivery
from battery_support import report, sized
from channel_common.testing import bearer, eventually
from inprocess.conftest import LONG_TTL, Started
from inprocess.network import RECEIVER, Wire
from sqlmodel import func, select

TOLERANCE_SECONDS = 5 * 60  # the Standard Webhooks reference libraries' default
DELIVERIES = sized(200, 5000)


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float) -> bool:
    """The reference verifier, written from the Standard Webhooks specification."""
    try:
        msg_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        signatures = headers["webhook-signature"].split(" ")
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    content = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(value, expected)
        for version, _, value in (signature.partition(",") for signature in signatures)
    )


def test_the_reference_verifier_accepts_the_specification_test_vector() -> None:
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert verify(secret, headers, b'{"test": 2432232314}', now=1614265330)
    assert not verify(secret, headers, b'{"test": 2432232315}', now=1614265330)
    assert not verify(secret, headers, b'{"test": 2432232314}', now=1614265330 + 301)


def _tamperings(
    secret: str, request: httpx.Request
) -> dict[str, tuple[str, dict[str, str], bytes]]:
    """Variants of a genuine delivery that must all be rejected: (secret, headers, body)."""
    headers = {k: request.headers[k] for k in ("webhook-id", "webhook-timestamp")}
    headers["webhook-signature"] = request.headers["webhook-signature"]
    body = request.content
    data = json.loads(body)
    other_secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
    ts = int(headers["webhook-timestamp"])

    def resigned(timestamp: int) -> dict[str, str]:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        content = f"{headers['webhook-id']}.{timestamp}.".encode() + body
        digest = hmac.new(key, content, hashlib.sha256).digest()
        return headers | {
            "webhook-timestamp": str(timestamp),
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        }

    return {
        "body_byte": (secret, headers, body[:-1] + b" "),
        "body_field": (secret, headers, json.dumps({**data, "type": "alert.resolved"}).encode()),
        "timestamp": (secret, headers | {"webhook-timestamp": str(ts + 1)}, body),
        "id": (secret, headers | {"webhook-id": str(uuid.uuid4())}, body),
        "secret": (other_secret, headers, body),
        "signature_version": (
            secret,
            headers | {"webhook-signature": headers["webhook-signature"].replace("v1,", "v2,")},
            body,
        ),
        "no_signature": (secret, {k: v for k, v in headers.items() if "signature" not in k}, body),
        "stale": (secret, resigned(ts - TOLERANCE_SECONDS - 60), body),
        "future": (secret, resigned(ts + TOLERANCE_SECONDS + 60), body),
    }


async def test_genuine_deliveries_verify_and_every_tampering_is_rejected(
    started: Started, wire: Wire
) -> None:
    async with started("alert", webhook_poll_seconds=0.05, webhook_batch_size=200) as (
        svc,
        client,
    ):
        headers = bearer(
            svc.settings, ["alerts:read", "alerts:write"], subject="ops", ttl_seconds=LONG_TTL
        )
        created = await client.post(
            "/api/v1/webhooks", json={"url": f"https://{RECEIVER}/hook"}, headers=headers
        )
        assert created.status_code == 201, created.text
        secret, webhook_id = created.json()["secret"], uuid.UUID(created.json()["id"])
        async with svc.app.state.sessions() as session:
            for n in range(DELIVERIES):
                alert = {"id": str(uuid.uuid4()), "summary": f"sales < 1000 ({n}) — ünïcode"}
                payload = {"type": "alert.fired", "timestamp": "2026-10-01T08:00:00Z",
                           "data": alert}  # fmt: skip
                session.add(
                    WebhookDelivery(
                        webhook_id=webhook_id,
                        alert_id=uuid.uuid4(),
                        event_type="alert.fired",
                        payload=json.dumps(payload, ensure_ascii=False),
                        state="pending",
                    )
                )
            await session.commit()

        async def all_sent() -> bool:
            async with svc.app.state.sessions() as session:
                count = (await session.exec(select(func.count()).select_from(WebhookAttempt))).one()
            return count >= DELIVERIES

        await eventually(all_sent, timeout=120)
    assert len(wire.sent) == DELIVERIES
    genuine = rejected = accepted_tampered = 0
    for request in wire.sent:
        now = time.time()
        genuine += verify(secret, dict(request.headers), request.content, now=now)
        for _kind, (key, tampered_headers, body) in _tamperings(secret, request).items():
            if verify(key, tampered_headers, body, now=now):
                accepted_tampered += 1
            else:
                rejected += 1
    figures = report(
        "S6",
        deliveries=DELIVERIES,
        genuine_accepted=genuine,
        tampered_rejected=rejected,
        tampered_accepted=accepted_tampered,
    )
    assert figures["genuine_accepted"] == DELIVERIES
    assert accepted_tampered == 0 and rejected == DELIVERIES * 9
