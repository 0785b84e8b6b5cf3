"""The local webhook receiver checks Standard Webhooks signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
from channelctl.webhooks import Receiver, verify_signature

SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()


def signed(
    body: bytes, secret: str = SECRET, msg_id: str = "msg_1", at: float | None = None
) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    timestamp = str(int(time.time() if at is None else at))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


class TestSignature:
    def test_accepts_the_right_signature_among_several(self) -> None:
        body = b'{"type": "alert.fired"}'
        headers = signed(body)
        headers["webhook-signature"] = "v1,bm9wZQ== " + headers["webhook-signature"]
        assert verify_signature(SECRET, headers, body)

    def test_refuses_a_changed_body_or_another_secret(self) -> None:
        body = b'{"type": "alert.fired"}'
        assert not verify_signature(SECRET, signed(body), body + b" ")
        other = "whsec_" + base64.b64encode(b"o" * 24).decode()
        assert not verify_signature(other, signed(body), body)

    def test_refuses_a_stale_or_future_timestamp(self) -> None:
        body = b'{"type": "alert.fired"}'
        headers = signed(body, at=1_796_000_000)
        assert verify_signature(SECRET, headers, body, now=1_796_000_300)
        assert not verify_signature(SECRET, headers, body, now=1_796_000_301)
        assert not verify_signature(SECRET, headers, body, now=1_795_999_699)

    def test_refuses_missing_id_or_timestamp(self) -> None:
        body = b"{}"
        for name in ("webhook-id", "webhook-timestamp"):
            headers = signed(body)
            del headers[name]
            assert not verify_signature(SECRET, headers, body)


class TestReceiver:
    def test_records_each_delivery_and_its_check(self) -> None:
        receiver = Receiver(port=0, secret=SECRET).start()
        try:
            data = {
                "severity": "critical",
                "labels": {"partner_code": "DIST-SC-CD"},
                "kpi": "sales_amount",
                "period": "2026-10",
                "summary": "sales fell",
            }
            body = json.dumps({"type": "alert.fired", "timestamp": "t", "data": data}).encode()
            url = f"http://127.0.0.1:{receiver.port}/channel-demo"
            good = httpx.post(url, content=body, headers=signed(body), trust_env=False)
            bad = httpx.post(url, content=body, headers=signed(b"x"), trust_env=False)
        finally:
            receiver.stop()
        assert (good.status_code, bad.status_code) == (204, 204)
        first, second = receiver.received()
        assert (first.signature_valid, second.signature_valid) == (True, False)
        assert first.line().startswith(
            "alert.fired        critical DIST-SC-CD sales_amount 2026-10"
        )
        assert "signature ok" in first.line() and "BAD SIGNATURE" in second.line()
