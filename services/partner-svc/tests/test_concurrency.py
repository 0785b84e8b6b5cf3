"""Concurrent requests: races end in one winner and clean 409s, never a lost update."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Api

N = 8


class TestRaces:
    async def test_one_registration_per_code(self, parallel_api: Api) -> None:
        api = parallel_api
        responses = await asyncio.gather(*[api.post_partner(code="RACE") for _ in range(N)])
        assert sorted(r.status_code for r in responses) == [201] + [409] * (N - 1)
        for response in responses:
            if response.status_code == 409:
                api.problem(response, 409)
        assert await api.codes() == ["RACE"]

    async def test_concurrent_patches_each_get_their_own_version(self, parallel_api: Api) -> None:
        api = parallel_api
        partner = await api.create()
        responses = await asyncio.gather(
            *[api.patch(partner["id"], {"name": f"Name {i}"}) for i in range(N)]
        )
        assert {r.status_code for r in responses} == {200}
        assert sorted(r.json()["version"] for r in responses) == list(range(2, N + 2))
        verified = await api.request("GET", f"/partners/{partner['id']}/history/verify")
        assert verified.json() == {"valid": True, "entries": N + 1, "broken_at": None}

    async def test_one_transition_wins(self, parallel_api: Api) -> None:
        api = parallel_api
        partner = await api.create()
        responses = await asyncio.gather(
            *[api.transition(partner["id"], "onboarding") for _ in range(N)]
        )
        assert sorted(r.status_code for r in responses) == [200] + [409] * (N - 1)

    async def test_one_exclusive_claim_wins(self, parallel_api: Api) -> None:
        api = parallel_api
        claimants = [await api.create() for _ in range(N)]
        exclusive = [{"region": "CN-ZJ", "exclusive": True}]
        responses = await asyncio.gather(
            *[api.put_territories(p["id"], exclusive) for p in claimants]
        )
        assert sorted(r.status_code for r in responses) == [200] + [409] * (N - 1)

    async def test_no_cycle_from_crossing_parent_changes(self, parallel_api: Api) -> None:
        api = parallel_api
        a, b = await api.create(), await api.create()
        responses = await asyncio.gather(
            api.patch(a["id"], {"parent_id": b["id"]}),
            api.patch(b["id"], {"parent_id": a["id"]}),
        )
        assert sorted(r.status_code for r in responses) == [200, 409]
