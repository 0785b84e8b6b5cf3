"""Silences (alerts recorded, not notified) and webhook registration (SSRF guard, secrets)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from alert_svc.models import WebhookDelivery
from alert_svc.netguard import UnsafeTargetError, resolve_safe
from alert_svc.workers import refresh_gauge
from channel_common import SQLModelSession, utcnow
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

if TYPE_CHECKING:
    from conftest import Api, Feed


def silence_body(**overrides: Any) -> dict[str, Any]:
    return {
        "matchers": {"partner_code": "P-1"},
        "ends_at": (utcnow() + timedelta(hours=1)).isoformat(),
        "created_by": "ops-alice",
        "comment": "planned ERP migration",
        **overrides,
    }


async def queued(sessions: async_sessionmaker[SQLModelSession]) -> list[str]:
    async with sessions() as session:
        rows = (await session.exec(select(WebhookDelivery))).all()
    return [row.event_type for row in rows]


class TestSilences:
    async def test_create_list_delete(self, api: Api) -> None:
        created = await api.request("POST", "/silences", json=silence_body())
        assert created.status_code == 201, created.text
        silence = created.json()
        assert silence["active"] is True and silence["created_by"] == "ops-alice"
        listed = (await api.request("GET", "/silences")).json()["items"]
        assert [s["id"] for s in listed] == [silence["id"]]
        assert (await api.request("DELETE", f"/silences/{silence['id']}")).status_code == 204
        api.problem(await api.request("DELETE", f"/silences/{silence['id']}"), 404)

    async def test_must_end_after_it_starts(self, api: Api) -> None:
        body = silence_body(ends_at=(utcnow() - timedelta(minutes=1)).isoformat())
        problem = api.problem(await api.request("POST", "/silences", json=body), 422)
        assert problem["errors"][0]["loc"] == ["body", "ends_at"]

    async def test_a_silenced_alert_is_recorded_but_not_queued(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        hook = await api.request("POST", "/webhooks", json={"url": "http://127.0.0.1:9/hook"})
        assert hook.status_code == 201, hook.text
        await api.create_rule()
        await api.request("POST", "/silences", json=silence_body())
        silenced = (await feed.partner(code="P-1"))["id"]
        loud = (await feed.partner(code="P-2"))["id"]
        await feed.aggregates(
            feed.update(silenced, "2026-10", "1"), feed.update(loud, "2026-10", "1")
        )
        alerts = {a["partner_id"]: a for a in await api.alerts()}
        assert alerts[silenced]["silenced"] is True and alerts[silenced]["state"] == "firing"
        assert alerts[loud]["silenced"] is False
        assert await queued(sessions) == ["alert.fired"]

    async def test_an_ended_silence_lets_the_firing_notification_out(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        await api.request("POST", "/webhooks", json={"url": "http://127.0.0.1:9/hook"})
        await api.create_rule()
        silence = (await api.request("POST", "/silences", json=silence_body())).json()
        pid = (await feed.partner(code="P-1"))["id"]
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        await refresh_gauge(sessions)
        assert await queued(sessions) == []
        await api.request("DELETE", f"/silences/{silence['id']}")
        await refresh_gauge(sessions)
        await refresh_gauge(sessions)
        assert await queued(sessions) == ["alert.fired"]
        assert [a["silenced"] for a in await api.alerts()] == [False]


UNKNOWN = "00000000-0000-0000-0000-00000000dead"
PORTAL = "00000000-0000-0000-0000-000000000001"


class TestReadOneSilence:
    async def test_location_leads_to_the_list_item_with_an_etag(self, api: Api) -> None:
        created = await api.request("POST", "/silences", json=silence_body())
        assert created.status_code == 201, created.text
        got = await api.client.get(created.headers["Location"], headers=api.headers)
        assert got.status_code == 200, got.text
        (listed,) = (await api.request("GET", "/silences")).json()["items"]
        assert got.json() == listed == created.json()
        again = await api.request("GET", f"/silences/{listed['id']}")
        assert got.headers["ETag"] and again.headers["ETag"] == got.headers["ETag"]

    async def test_each_silence_has_its_own_etag(self, api: Api) -> None:
        one = (await api.request("POST", "/silences", json=silence_body())).json()
        two = (await api.request("POST", "/silences", json=silence_body(comment="other"))).json()
        tags = {
            (await api.request("GET", f"/silences/{s['id']}")).headers["ETag"] for s in (one, two)
        }
        assert len(tags) == 2

    async def test_unknown_or_deleted_is_404(self, api: Api) -> None:
        silence = (await api.request("POST", "/silences", json=silence_body())).json()
        assert (await api.request("DELETE", f"/silences/{silence['id']}")).status_code == 204
        api.problem(await api.request("GET", f"/silences/{silence['id']}"), 404)
        api.problem(await api.request("GET", f"/silences/{UNKNOWN}"), 404)

    async def test_needs_alerts_read_and_the_channel_team(self, api: Api) -> None:
        silence = (await api.request("POST", "/silences", json=silence_body())).json()
        writer = api.as_principal(("alerts:write",))
        api.problem(await writer.request("GET", f"/silences/{silence['id']}"), 403)
        portal = api.as_principal(("alerts:read",), partner_id=PORTAL)
        api.problem(await portal.request("GET", "/silences"), 403)
        api.problem(await portal.request("GET", f"/silences/{silence['id']}"), 403)


class TestReadOneWebhook:
    async def test_location_leads_to_the_list_item_without_the_secret(self, api: Api) -> None:
        created = await api.request("POST", "/webhooks", json={"url": "http://127.0.0.1:9/h"})
        assert created.status_code == 201, created.text
        got = await api.client.get(created.headers["Location"], headers=api.headers)
        assert got.status_code == 200, got.text
        (listed,) = (await api.request("GET", "/webhooks")).json()["items"]
        assert got.json() == listed
        assert "secret" not in got.json()
        assert created.json()["secret"] not in got.text
        again = await api.request("GET", f"/webhooks/{listed['id']}")
        assert got.headers["ETag"] and again.headers["ETag"] == got.headers["ETag"]

    async def test_unknown_or_deleted_is_404(self, api: Api) -> None:
        hook = (await api.request("POST", "/webhooks", json={"url": "http://127.0.0.1:9/"})).json()
        assert (await api.request("DELETE", f"/webhooks/{hook['id']}")).status_code == 204
        api.problem(await api.request("GET", f"/webhooks/{hook['id']}"), 404)
        api.problem(await api.request("GET", f"/webhooks/{UNKNOWN}"), 404)

    async def test_needs_alerts_read_and_the_channel_team(self, api: Api) -> None:
        hook = (await api.request("POST", "/webhooks", json={"url": "http://127.0.0.1:9/"})).json()
        writer = api.as_principal(("alerts:write",))
        api.problem(await writer.request("GET", f"/webhooks/{hook['id']}"), 403)
        portal = api.as_principal(("alerts:read",), partner_id=PORTAL)
        api.problem(await portal.request("GET", "/webhooks"), 403)
        api.problem(await portal.request("GET", f"/webhooks/{hook['id']}"), 403)


class TestWebhookRegistration:
    async def test_generates_a_secret_and_shows_it_once(self, api: Api) -> None:
        response = await api.request(
            "POST",
            "/webhooks",
            json={
                "url": "http://127.0.0.1:9/h",
                "events": ["alert.fired"],
                "min_severity": "warning",
            },
        )
        assert response.status_code == 201, response.text
        hook = response.json()
        assert hook["secret"].startswith("whsec_")
        assert len(base64.b64decode(hook["secret"].removeprefix("whsec_"))) == 32
        listed = (await api.request("GET", "/webhooks")).json()["items"]
        assert listed == [{k: v for k, v in hook.items() if k != "secret"}]

    @pytest.mark.parametrize(
        "url",
        [
            "http://10.0.0.5/h",
            "http://169.254.169.254/latest",
            "http://192.168.1.1/",
            "http://[fe80::1]/h",
            "http://224.0.0.1/",
            "http://0.0.0.0/",
            "ftp://example.com/",
        ],
    )
    async def test_refuses_private_and_metadata_addresses(self, api: Api, url: str) -> None:
        problem = api.problem(await api.request("POST", "/webhooks", json={"url": url}), 422)
        assert problem["errors"][0]["loc"][:2] == ["body", "url"]

    async def test_accepts_a_public_address_and_a_given_secret(self, api: Api) -> None:
        secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
        body = {"url": "https://8.8.8.8/hook", "secret": secret}
        response = await api.request("POST", "/webhooks", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["secret"] == secret

    async def test_refuses_unknown_events_and_bad_secrets(self, api: Api) -> None:
        body = {"url": "http://127.0.0.1:9/h", "events": ["alert.exploded"]}
        api.problem(await api.request("POST", "/webhooks", json=body), 422)
        body = {"url": "http://127.0.0.1:9/h", "secret": "whsec_c2hvcnQ="}
        problem = api.problem(await api.request("POST", "/webhooks", json=body), 422)
        assert problem["errors"][0]["loc"] == ["body", "secret"]

    async def test_loopback_is_refused_unless_allowed(self) -> None:
        with pytest.raises(UnsafeTargetError):
            await resolve_safe("127.0.0.1", 80, allow_loopback=False)
        with pytest.raises(UnsafeTargetError):
            await resolve_safe("::ffff:127.0.0.1", 80, allow_loopback=False)
        assert await resolve_safe("127.0.0.1", 80, allow_loopback=True) == "127.0.0.1"

    async def test_delete_and_deliveries_of_unknown_webhook(self, api: Api) -> None:
        hook = (await api.request("POST", "/webhooks", json={"url": "http://127.0.0.1:9/"})).json()
        deliveries = await api.request("GET", f"/webhooks/{hook['id']}/deliveries")
        assert deliveries.status_code == 200 and deliveries.json()["items"] == []
        assert (await api.request("DELETE", f"/webhooks/{hook['id']}")).status_code == 204
        api.problem(await api.request("GET", f"/webhooks/{hook['id']}/deliveries"), 404)

    async def test_partner_bound_principals_may_not_manage(self, api: Api) -> None:
        portal = api.as_principal(partner_id="00000000-0000-0000-0000-000000000001")
        api.problem(
            await portal.request("POST", "/webhooks", json={"url": "http://127.0.0.1/"}), 403
        )
        api.problem(await portal.request("POST", "/silences", json=silence_body()), 403)
