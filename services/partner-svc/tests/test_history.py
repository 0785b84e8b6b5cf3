"""The hash-chained history: every change recorded, paginated, and tampering detected."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from channel_common import SQLModelSession
from partner_svc.models import HistoryEntry
from partner_svc.service.ledger import entry_hash
from sqlalchemy.ext.asyncio import async_sessionmaker

if TYPE_CHECKING:
    from conftest import Api

Sessions = async_sessionmaker[SQLModelSession]


async def history(api: Api, partner_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.request("GET", f"/partners/{partner_id}/history", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def verify(api: Api, partner_id: str) -> dict[str, Any]:
    response = await api.request("GET", f"/partners/{partner_id}/history/verify")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def changed_partner(api: Api) -> str:
    """A partner with five entries: created, updated, transitioned, tier, territories."""
    partner = await api.create(name="Before", reason="signed up at the fair")
    pid = partner["id"]
    await api.patch(pid, {"name": "After", "reason": "typo"})
    await api.transition(pid, "onboarding", reason="contract sent")
    await api.set_tier(pid, "silver", reason="volume")
    await api.put_territories(
        pid, {"territories": [{"region": "CN-GD", "exclusive": True}], "reason": "deal"}
    )
    return str(pid)


class TestHistory:
    async def test_records_every_change_with_actor_reason_and_values(self, api: Api) -> None:
        pid = await changed_partner(api)
        entries = await history(api, pid)
        assert [e["action"] for e in entries] == [
            "created",
            "updated",
            "transitioned",
            "tier_changed",
            "territories_replaced",
        ]
        assert [e["position"] for e in entries] == [1, 2, 3, 4, 5]
        assert [e["version"] for e in entries] == [1, 2, 3, 4, 5]
        assert {e["actor"] for e in entries} == {"ops-alice"}
        assert [e["reason"] for e in entries] == [
            "signed up at the fair",
            "typo",
            "contract sent",
            "volume",
            "deal",
        ]
        created, updated, moved, tier, territories = entries
        assert created["before"] is None and created["after"]["name"] == "Before"
        assert (updated["before"], updated["after"]) == ({"name": "Before"}, {"name": "After"})
        assert (moved["before"], moved["after"]) == (
            {"status": "prospect"},
            {"status": "onboarding"},
        )
        assert (tier["before"], tier["after"]) == ({"tier": "registered"}, {"tier": "silver"})
        assert territories["before"] == {"territories": []}
        assert territories["after"] == {"territories": [{"region": "CN-GD", "exclusive": True}]}
        assert all(e["at"].endswith("Z") for e in entries)

    async def test_chains_each_entry_to_the_previous_one(self, api: Api) -> None:
        entries = await history(api, await changed_partner(api))
        assert entries[0]["prev_hash"] == "0" * 64
        for previous, entry in itertools.pairwise(entries):
            assert entry["prev_hash"] == previous["hash"]
        assert len({e["hash"] for e in entries}) == 5

    async def test_refused_changes_leave_no_entry(self, api: Api) -> None:
        partner = await api.create()
        await api.transition(partner["id"], "active")
        await api.patch(partner["id"], {"name": partner["name"]})
        assert len(await history(api, partner["id"])) == 1

    async def test_pages_through_the_entries(self, api: Api) -> None:
        pid = await changed_partner(api)
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await api.request("GET", f"/partners/{pid}/history", params=params)
            page = response.json()
            seen += [e["position"] for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [1, 2, 3, 4, 5]

    async def test_unknown_partner_is_404(self, api: Api) -> None:
        api.problem(await api.request("GET", f"/partners/{uuid.uuid4()}/history"), 404)
        api.problem(await api.request("GET", f"/partners/{uuid.uuid4()}/history/verify"), 404)


class TestVerify:
    async def test_an_untouched_chain_is_valid(self, api: Api) -> None:
        pid = await changed_partner(api)
        assert await verify(api, pid) == {"valid": True, "entries": 5, "broken_at": None}

    @pytest.mark.parametrize(
        "tamper",
        [
            {"reason": "nothing to see here"},
            {"actor": "mallory"},
            {"after": json.dumps({"tier": "platinum"})},
            {"before": None},
            {"version": 9},
            {"hash": "f" * 64},
            {"after": "{not json"},
        ],
        ids=["reason", "actor", "after", "before", "version", "hash", "garbage"],
    )
    async def test_detects_a_row_changed_in_the_database(
        self, api: Api, sessions: Sessions, tamper: dict[str, Any]
    ) -> None:
        pid = await changed_partner(api)
        async with sessions() as session:
            await session.execute(
                sa.update(HistoryEntry)
                .where(
                    HistoryEntry.partner_id == uuid.UUID(pid),  # type: ignore[arg-type]
                    HistoryEntry.position == 4,  # type: ignore[arg-type]
                )
                .values(**tamper)
            )
            await session.commit()
        assert await verify(api, pid) == {"valid": False, "entries": 5, "broken_at": 4}

    async def test_detects_a_rehashed_entry_by_its_successor(
        self, api: Api, sessions: Sessions
    ) -> None:
        pid = await changed_partner(api)
        async with sessions() as session:
            entry = (
                await session.exec(
                    sa.select(HistoryEntry).where(
                        HistoryEntry.partner_id == uuid.UUID(pid),  # type: ignore[arg-type]
                        HistoryEntry.position == 2,  # type: ignore[arg-type]
                    )
                )
            ).scalar_one()
            entry.reason = "forged"
            entry.hash = entry_hash(entry)  # a forger who knows the recipe
            await session.commit()
        assert await verify(api, pid) == {"valid": False, "entries": 5, "broken_at": 3}

    @pytest.mark.parametrize(("position", "broken_at"), [(1, 2), (3, 4), (5, 5)])
    async def test_detects_a_deleted_entry(
        self, api: Api, sessions: Sessions, position: int, broken_at: int
    ) -> None:
        pid = await changed_partner(api)
        async with sessions() as session:
            await session.execute(
                sa.delete(HistoryEntry).where(
                    HistoryEntry.partner_id == uuid.UUID(pid),  # type: ignore[arg-type]
                    HistoryEntry.position == position,  # type: ignore[arg-type]
                )
            )
            await session.commit()
        result = await verify(api, pid)
        assert result == {"valid": False, "entries": 4, "broken_at": broken_at}
