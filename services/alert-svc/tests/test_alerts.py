"""Alerts from KPI events: firing after `for_periods`, no data, recovery, late data,
redelivery, acknowledgement, scope and partner-bound access."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from alert_svc.workers import refresh_gauge
from channel_common import OutboxMessage, SQLModelSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

if TYPE_CHECKING:
    from conftest import Api, Feed

Outbox = Callable[[], Awaitable[list[str]]]


@pytest.fixture
def outbox(sessions: async_sessionmaker[SQLModelSession]) -> Outbox:
    """The subjects written to the outbox, in order."""

    async def subjects() -> list[str]:
        async with sessions() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.seq))).all()
        return [row.subject for row in rows]

    return subjects


async def low_sales(api: Api, feed: Feed, **rule: Any) -> tuple[dict[str, Any], str]:
    """A rule `sales_amount < 1000 for 2 months` and a partner P-1 in CN-GD (gold)."""
    created = await api.create_rule(**{"for_periods": 2, **rule})
    partner = await feed.partner(code="P-1")
    return created, partner["id"]


class TestFiring:
    async def test_fires_after_for_periods_consecutive_breaches(
        self, api: Api, feed: Feed, outbox: Outbox
    ) -> None:
        rule, pid = await low_sales(api, feed, labels={"team": "south"})
        await feed.aggregates(feed.update(pid, "2026-09", "500"))
        assert await api.alerts() == []
        await feed.aggregates(feed.update(pid, "2026-10", "400.50"))
        (alert,) = await api.alerts()
        assert alert["state"] == "firing" and alert["period"] == "2026-10"
        assert alert["value"] == "400.5" and alert["severity"] == "warning"
        assert alert["rule_id"] == rule["id"] and alert["partner_id"] == pid
        assert alert["summary"] == (
            "sales_amount < 1000 for 2 consecutive months (value 400.5 in 2026-10)"
        )
        assert alert["labels"] == {
            "team": "south",
            "rule": "low sales",
            "partner_id": pid,
            "partner_code": "P-1",
            "tier": "gold",
            "region": "CN-GD",
            "kpi": "sales_amount",
            "severity": "warning",
        }
        assert await outbox() == ["alert.fired.v1"]

    async def test_keeps_one_open_alert_per_rule_and_partner(
        self, api: Api, feed: Feed, outbox: Outbox
    ) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-09", "500"))
        await feed.aggregates(feed.update(pid, "2026-10", "300"))
        (alert,) = await api.alerts()
        assert alert["period"] == "2026-10" and alert["value"] == "300"
        assert await outbox() == ["alert.fired.v1"]

    async def test_a_period_without_data_neither_fires_nor_resolves(
        self, api: Api, feed: Feed
    ) -> None:
        rule = await api.create_rule(
            condition={"type": "change", "compare_to": "previous", "op": "lt", "pct": "-0.3"}
        )
        pid = (await feed.partner())["id"]
        await feed.aggregates(feed.update(pid, "2026-08", "1000"))
        await feed.aggregates(feed.update(pid, "2026-09", "600"))
        assert [a["rule_id"] for a in await api.alerts(state="firing")] == [rule["id"]]
        await feed.aggregates(feed.update(pid, "2026-11", "100"))  # October has no data
        (alert,) = await api.alerts()
        assert alert["state"] == "firing" and alert["period"] == "2026-09"

    async def test_a_drop_exactly_at_the_threshold_does_not_fire(
        self, api: Api, feed: Feed
    ) -> None:
        await api.create_rule(
            condition={"type": "change", "compare_to": "previous", "op": "lt", "pct": "-0.3"}
        )
        pid = (await feed.partner())["id"]
        await feed.aggregates(
            feed.update(pid, "2026-09", "1000"), feed.update(pid, "2026-10", "700")
        )
        assert await api.alerts() == []

    async def test_keeps_the_newest_partner_snapshot(self, api: Api, feed: Feed) -> None:
        await api.create_rule(scope={"tiers": ["platinum"]})
        pid = (await feed.partner(tier="platinum", version=2))["id"]
        await feed.partner(id=pid, tier="gold", version=1)  # arrives late
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (alert,) = await api.alerts()
        assert alert["labels"]["tier"] == "platinum"

    async def test_only_partners_in_scope(self, api: Api, feed: Feed) -> None:
        await api.create_rule(scope={"tiers": ["platinum"], "regions": ["CN"]})
        gold = (await feed.partner(tier="gold"))["id"]
        platinum = (await feed.partner(tier="platinum", region="CN-GD-SZ", code="P-2"))["id"]
        abroad = (await feed.partner(tier="platinum", region="US", code="P-3"))["id"]
        for pid in (gold, platinum, abroad):
            await feed.aggregates(feed.update(pid, "2026-10", "1"))
        assert [a["partner_id"] for a in await api.alerts()] == [platinum]


class TestNewRules:
    async def test_a_new_rule_judges_the_data_already_there(self, api: Api, feed: Feed) -> None:
        pid = (await feed.partner())["id"]
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        rule = await api.create_rule()
        assert [a["rule_id"] for a in await api.alerts(state="firing")] == [rule["id"]]

    async def test_changing_the_condition_judges_afresh(self, api: Api, feed: Feed) -> None:
        rule, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "500"))
        changed = {"condition": {"type": "threshold", "op": "lt", "value": "100"}}
        response = await api.request("PATCH", f"/alert-rules/{rule['id']}", json=changed)
        assert response.status_code == 200, response.text
        assert [a["state"] for a in await api.alerts()] == ["resolved"]
        changed = {"condition": {"type": "threshold", "op": "lt", "value": "600"}}
        await api.request("PATCH", f"/alert-rules/{rule['id']}", json=changed)
        assert sorted(a["state"] for a in await api.alerts()) == ["firing", "resolved"]


class TestResolving:
    async def test_recovery_resolves_and_announces_once(
        self, api: Api, feed: Feed, outbox: Outbox
    ) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "400"))
        await feed.aggregates(feed.update(pid, "2026-11", "1500"))
        (alert,) = await api.alerts()
        assert alert["state"] == "resolved" and alert["resolved_at"]
        await feed.aggregates(feed.update(pid, "2026-12", "2000"))
        assert await outbox() == ["alert.fired.v1", "alert.resolved.v1"]

    async def test_a_late_correction_of_the_latest_period_resolves(
        self, api: Api, feed: Feed
    ) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "400", version=1))
        await feed.aggregates(feed.update(pid, "2026-10", "1200", version=2))
        assert [a["state"] for a in await api.alerts()] == ["resolved"]

    async def test_late_data_for_an_older_period_is_judged_in_its_window(
        self, api: Api, feed: Feed
    ) -> None:
        _, pid = await low_sales(api, feed)
        await feed.aggregates(feed.update(pid, "2026-10", "400"))
        assert await api.alerts() == []
        await feed.aggregates(feed.update(pid, "2026-09", "300"))  # arrives late
        assert [a["period"] for a in await api.alerts()] == ["2026-10"]

    async def test_a_malformed_period_is_skipped_not_fatal(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-13", "1"), feed.update(pid, "2026-10", "1"))
        assert [a["period"] for a in await api.alerts()] == ["2026-10"]

    async def test_an_older_version_changes_nothing(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1200", version=5))
        await feed.aggregates(feed.update(pid, "2026-10", "1", version=4))
        assert await api.alerts() == []

    async def test_a_terminated_partner_has_its_alerts_resolved(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        await feed.partner(id=pid, code="P-1", status="terminated", version=2)
        assert [a["state"] for a in await api.alerts()] == ["resolved"]

    async def test_deleting_the_rule_resolves_its_alerts(
        self, api: Api, feed: Feed, outbox: Outbox
    ) -> None:
        rule, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        assert (await api.request("DELETE", f"/alert-rules/{rule['id']}")).status_code == 204
        (alert,) = await api.alerts()
        assert alert["state"] == "resolved"
        resolved, started = (
            datetime.fromisoformat(alert[k]) for k in ("resolved_at", "started_at")
        )
        assert resolved >= started
        assert await outbox() == ["alert.fired.v1", "alert.resolved.v1"]

    async def test_disabling_the_rule_resolves_its_alerts(self, api: Api, feed: Feed) -> None:
        rule, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        response = await api.request("PATCH", f"/alert-rules/{rule['id']}", json={"enabled": False})
        assert response.status_code == 200
        assert [a["state"] for a in await api.alerts()] == ["resolved"]


class TestRedelivery:
    async def test_a_redelivered_event_fires_nothing_twice(
        self, api: Api, feed: Feed, outbox: Outbox
    ) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        update = feed.update(pid, "2026-10", "1")
        await feed.aggregates(update, event_id="kpi-evt-1")
        await feed.aggregates(update, event_id="kpi-evt-1")
        await feed.aggregates(update, event_id="kpi-evt-2")  # same content, new envelope
        assert len(await api.alerts()) == 1
        assert await outbox() == ["alert.fired.v1"]


class TestAcknowledge:
    async def test_firing_then_acknowledged_then_resolved(
        self, api: Api, feed: Feed, outbox: Outbox
    ) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (alert,) = await api.alerts()
        acked = await api.request("POST", f"/alerts/{alert['id']}/ack", json={"note": "on it"})
        assert acked.status_code == 200, acked.text
        body = acked.json()
        assert body["state"] == "acknowledged" and body["acknowledged_by"] == "ops-alice"
        api.problem(await api.request("POST", f"/alerts/{alert['id']}/ack", json={}), 409)
        await feed.aggregates(feed.update(pid, "2026-11", "5000"))
        got = (await api.request("GET", f"/alerts/{alert['id']}")).json()
        assert got["state"] == "resolved" and got["acknowledged_at"]
        assert await outbox() == ["alert.fired.v1", "alert.acknowledged.v1", "alert.resolved.v1"]

    async def test_the_note_is_optional(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (alert,) = await api.alerts()
        response = await api.request("POST", f"/alerts/{alert['id']}/ack")
        assert response.status_code == 200 and response.json()["state"] == "acknowledged"

    async def test_needs_alerts_write(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (alert,) = await api.alerts()
        reader = api.as_principal(("alerts:read",))
        api.problem(await reader.request("POST", f"/alerts/{alert['id']}/ack", json={}), 403)


class TestReadOne:
    async def test_shows_the_list_item_with_a_stable_etag(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (listed,) = await api.alerts()
        first = await api.request("GET", f"/alerts/{listed['id']}")
        again = await api.request("GET", f"/alerts/{listed['id']}")
        assert first.status_code == 200, first.text
        assert first.json() == listed
        assert first.headers["ETag"].startswith('"') and first.headers["ETag"].endswith('"')
        assert again.headers["ETag"] == first.headers["ETag"]

    async def test_acknowledging_changes_the_etag(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (alert,) = await api.alerts()
        before = (await api.request("GET", f"/alerts/{alert['id']}")).headers["ETag"]
        acked = await api.request("POST", f"/alerts/{alert['id']}/ack", json={"note": "on it"})
        assert acked.status_code == 200, acked.text
        assert acked.headers["ETag"] != before
        after = await api.request("GET", f"/alerts/{alert['id']}")
        assert after.json() == acked.json()
        assert after.headers["ETag"] == acked.headers["ETag"]

    async def test_a_newer_breaching_period_changes_the_etag(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (alert,) = await api.alerts()
        before = (await api.request("GET", f"/alerts/{alert['id']}")).headers["ETag"]
        await feed.aggregates(feed.update(pid, "2026-11", "2"))
        after = await api.request("GET", f"/alerts/{alert['id']}")
        assert after.json()["state"] == "firing" and after.json()["period"] == "2026-11"
        assert after.headers["ETag"] != before

    async def test_unknown_is_404(self, api: Api) -> None:
        api.problem(await api.request("GET", "/alerts/00000000-0000-0000-0000-00000000dead"), 404)

    async def test_needs_alerts_read(self, api: Api, feed: Feed) -> None:
        _, pid = await low_sales(api, feed, for_periods=1)
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        (alert,) = await api.alerts()
        writer = api.as_principal(("alerts:write",))
        api.problem(await writer.request("GET", f"/alerts/{alert['id']}"), 403)

    async def test_a_partner_reads_its_own_but_not_anothers(self, api: Api, feed: Feed) -> None:
        await api.create_rule()
        own = (await feed.partner(code="OWN"))["id"]
        other = (await feed.partner(code="OTHER"))["id"]
        await feed.aggregates(feed.update(own, "2026-10", "1"), feed.update(other, "2026-10", "1"))
        alerts = {a["partner_id"]: a for a in await api.alerts()}
        portal = api.as_principal(("alerts:read",), partner_id=own)
        mine = await portal.request("GET", f"/alerts/{alerts[own]['id']}")
        assert mine.status_code == 200 and mine.json() == alerts[own]
        assert mine.headers["ETag"]
        api.problem(await portal.request("GET", f"/alerts/{alerts[other]['id']}"), 404)


class TestPartnerBound:
    async def test_sees_only_its_own_alerts(self, api: Api, feed: Feed) -> None:
        await api.create_rule()
        own = (await feed.partner(code="OWN"))["id"]
        other = (await feed.partner(code="OTHER"))["id"]
        await feed.aggregates(feed.update(own, "2026-10", "1"), feed.update(other, "2026-10", "1"))
        portal = api.as_principal(partner_id=own)
        assert [a["partner_id"] for a in await portal.alerts()] == [own]
        theirs = next(a for a in await api.alerts() if a["partner_id"] == other)
        api.problem(await portal.request("GET", f"/alerts/{theirs['id']}"), 404)
        api.problem(await portal.request("GET", "/alerts", params={"partner_id": other}), 404)
        api.problem(await portal.request("POST", f"/alerts/{theirs['id']}/ack", json={}), 404)
        api.problem(await portal.request("GET", "/alert-rules"), 403)


class TestFilters:
    async def test_filters_by_state_severity_partner_and_rule(self, api: Api, feed: Feed) -> None:
        critical = await api.create_rule(severity="critical", name="crit")
        await api.create_rule(severity="info", name="info")
        pid = (await feed.partner())["id"]
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        assert len(await api.alerts(partner_id=pid)) == 2
        (crit,) = await api.alerts(severity="critical")
        assert crit["rule_id"] == critical["id"]
        assert len(await api.alerts(rule_id=critical["id"], state="firing")) == 1
        assert await api.alerts(state="resolved") == []
        page = (await api.request("GET", "/alerts", params={"limit": 1})).json()
        rest = await api.request("GET", "/alerts", params={"cursor": page["next_cursor"]})
        assert len(rest.json()["items"]) == 1


class TestMetrics:
    async def test_counts_evaluations_and_open_alerts_without_partner_ids(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        _, pid = await low_sales(api, feed, for_periods=1, severity="critical")
        await feed.aggregates(feed.update(pid, "2026-10", "1"))
        await refresh_gauge(sessions)
        text = (await api.client.get("/metrics")).text
        assert 'channel_alerts_firing{severity="critical"} 1.0' in text
        assert 'channel_alert_evaluations_total{condition="threshold",outcome="firing"}' in text
        assert pid not in text
