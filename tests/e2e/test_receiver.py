"""The story's own webhook signature check: it must be able to fail, or the story proves
nothing about the signatures it accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import replace

from e2e_receiver import Receipt, signature_is_valid

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def _signed(body: bytes, *, msg_id: str = "msg_1", at: int | None = None) -> Receipt:
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(b"k" * 32, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest.digest()).decode(),
    }
    return Receipt("/hooks", headers, body, time.time())


class TestSignatureCheck:
    def test_accepts_a_correct_signature(self) -> None:
        assert signature_is_valid(SECRET, _signed(b'{"type":"alert.fired"}'))

    def test_accepts_one_valid_entry_among_several(self) -> None:
        receipt = _signed(b"{}")
        headers = {**receipt.headers}
        headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
        assert signature_is_valid(SECRET, replace(receipt, headers=headers))

    def test_refuses_a_tampered_body(self) -> None:
        receipt = _signed(b'{"value":"60"}')
        assert not signature_is_valid(SECRET, replace(receipt, body=b'{"value":"99"}'))

    def test_refuses_another_secret(self) -> None:
        other = "whsec_" + base64.b64encode(b"x" * 32).decode()
        assert not signature_is_valid(other, _signed(b"{}"))

    def test_refuses_a_stale_timestamp(self) -> None:
        assert not signature_is_valid(SECRET, _signed(b"{}", at=int(time.time()) - 3600))
