"""Seeding the demo keeps what exists and copes with a suite that refuses loopback webhooks."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from channelctl.client import Gateway
from channelctl.demo_data import PARTNERS
from channelctl.demo_seed import ensure_partners, ensure_webhook


def gateway(handler: httpx.MockTransport) -> Gateway:
    return Gateway("http://gw", "csk_x", transport=handler)


class TestEnsureWebhook:
    def test_a_refused_loopback_url_is_reported_not_fatal(self, tmp_path: Path) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.method == "GET":
                return httpx.Response(200, json={"items": [], "next_cursor": None})
            detail = {"title": "Unprocessable Content", "status": 422, "detail": "bad url"}
            return httpx.Response(422, json=detail)

        secret, line = ensure_webhook(
            gateway(httpx.MockTransport(handler)), "http://127.0.0.1:8765/x", tmp_path / "s"
        )
        assert secret is None
        assert "ALERT_ALLOW_LOOPBACK_WEBHOOKS=true" in line
        assert not (tmp_path / "s").exists()

    def test_a_registered_url_is_kept_with_its_stored_secret(self, tmp_path: Path) -> None:
        (tmp_path / "s").write_text("whsec_c2VjcmV0c2VjcmV0c2VjcmV0\n")
        posted: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            posted.append(request.method)
            hook = {"id": "h", "url": "http://127.0.0.1:8765/x"}
            return httpx.Response(200, json={"items": [hook], "next_cursor": None})

        secret, line = ensure_webhook(
            gateway(httpx.MockTransport(handler)), "http://127.0.0.1:8765/x", tmp_path / "s"
        )
        assert secret == "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"
        assert line.endswith("already registered")
        assert posted == ["GET"]


class TestEnsurePartners:
    def test_existing_partners_are_activated_not_created_again(self) -> None:
        calls: list[tuple[str, str]] = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append((request.method, request.url.path))
            code = request.url.path.rsplit("/", 1)[-1]
            partner = next((p for p in PARTNERS if p.code == code), None)
            if request.method == "GET" and partner is not None:
                territories = [{"region": r, "exclusive": e} for r, e in partner.territories]
                status = "prospect" if partner.code == "DIST-GD" else "active"
                body = {"id": f"id-{code}", "code": code, "status": status}
                return httpx.Response(200, json={**body, "territories": territories})
            if request.url.path.endswith("/transitions"):
                to = json.loads(request.content)["to"]
                territories = [{"region": "CN-GD", "exclusive": False}]
                body = {"id": "id-DIST-GD", "code": "DIST-GD", "status": to}
                return httpx.Response(200, json={**body, "territories": territories})
            return httpx.Response(500)

        ids, seeded = ensure_partners(gateway(httpx.MockTransport(handler)))
        assert (seeded.created, seeded.existing) == (0, len(PARTNERS))
        assert ids["SHOP-GD-SZ-02"] == "id-SHOP-GD-SZ-02"
        writes = [call for call in calls if call[0] != "GET"]
        assert writes == [
            ("POST", "/api/v1/partners/id-DIST-GD/transitions"),
            ("POST", "/api/v1/partners/id-DIST-GD/transitions"),
        ]
