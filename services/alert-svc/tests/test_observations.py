"""Observation-based conditions: sales outside the territories, and absence (the sweep)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from alert_svc import service
from channel_common import SQLModelSession, utcnow
from sqlalchemy.ext.asyncio import async_sessionmaker

if TYPE_CHECKING:
    from conftest import Api, Feed


async def sweep(sessions: async_sessionmaker[SQLModelSession], today: date) -> None:
    async with sessions() as session:
        await service.sweep_absence(session, today=today, now=utcnow())
        await session.commit()


class TestOutOfTerritory:
    async def test_a_sale_outside_the_territories_fires(self, api: Api, feed: Feed) -> None:
        await api.create_rule(condition={"type": "out_of_territory"}, severity="critical")
        pid = (await feed.partner(territories=[{"region": "CN-GD", "exclusive": True}]))["id"]
        await feed.observations(feed.observation(pid, "2026-10-03", "CN-GD-SZ"))
        assert await api.alerts() == []
        await feed.observations(
            feed.observation(pid, "2026-10-04", "CN-BJ"),
            feed.observation(pid, "2026-10-05", "CN-SH"),
        )
        (alert,) = await api.alerts()
        assert alert["period"] == "2026-10" and alert["value"] == "2"
        assert "outside the partner's territories" in alert["summary"]

    async def test_a_month_with_only_inside_sales_resolves(self, api: Api, feed: Feed) -> None:
        await api.create_rule(condition={"type": "out_of_territory"})
        pid = (await feed.partner())["id"]
        await feed.observations(feed.observation(pid, "2026-10-04", "CN-BJ"))
        await feed.observations(feed.observation(pid, "2026-11-02", "CN-GD"))
        assert [a["state"] for a in await api.alerts()] == ["resolved"]

    async def test_without_territories_the_home_region_counts(self, api: Api, feed: Feed) -> None:
        await api.create_rule(condition={"type": "out_of_territory"})
        pid = (await feed.partner(territories=[], region="CN-GD"))["id"]
        await feed.observations(feed.observation(pid, "2026-10-04", "CN-GD-GZ"))
        assert await api.alerts() == []


class TestAbsence:
    async def test_the_sweep_fires_after_the_days_and_an_observation_resolves(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        await api.create_rule(condition={"type": "absence", "days": 3}, granularity="day")
        pid = (await feed.partner())["id"]
        today = utcnow().date()
        last = today - timedelta(days=2)
        await feed.observations(feed.observation(pid, last.isoformat(), "CN-GD"))
        await sweep(sessions, today + timedelta(days=1))
        assert await api.alerts() == []
        later = today + timedelta(days=2)
        await sweep(sessions, later)
        (alert,) = await api.alerts()
        assert alert["state"] == "firing" and alert["value"] == "3"
        assert alert["period"] == later.isoformat()
        assert alert["summary"] == (
            f"no sales_amount observation for 3 days (last seen {last.isoformat()})"
        )
        await feed.observations(feed.observation(pid, today.isoformat(), "CN-GD"))
        assert [a["state"] for a in await api.alerts()] == ["resolved"]

    async def test_inactive_partners_are_not_watched(
        self, api: Api, feed: Feed, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        await api.create_rule(condition={"type": "absence", "days": 1})
        await feed.partner(status="suspended")
        await sweep(sessions, utcnow().date() + timedelta(days=30))
        assert await api.alerts() == []
