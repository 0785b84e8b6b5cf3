"""Scopes, and a partner-bound principal (a partner portal) on every endpoint: it sees its own
partner and its direct children, may patch its own contact data, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api


@dataclass
class Family:
    """The bound partner, its child and grandchild, and an unrelated partner with a child."""

    portal: Api
    own: dict[str, Any]
    child: dict[str, Any]
    grandchild: dict[str, Any]
    other: dict[str, Any]
    others_child: dict[str, Any]


@pytest.fixture
async def family(api: Api) -> Family:
    own = await api.create(code="B-OWN")
    child = await api.create(code="B-CHILD", parent_id=own["id"])
    grandchild = await api.create(code="B-GRANDCHILD", parent_id=child["id"])
    other = await api.create(code="B-OTHER")
    others_child = await api.create(code="B-OTHERS-CHILD", parent_id=other["id"])
    await api.put_territories(own["id"], [{"region": "CN-GD", "exclusive": True}])
    await api.put_territories(other["id"], [{"region": "CN-BJ", "exclusive": True}])
    portal = api.as_principal(partner_id=own["id"], subject="portal-b-own")
    return Family(portal, own, child, grandchild, other, others_child)


class TestScopes:
    async def test_no_token_is_401(self, api: Api) -> None:
        response = await api.client.get("/api/v1/partners")
        api.problem(response, 401)

    async def test_reading_needs_partners_read(self, api: Api) -> None:
        reader = api.as_principal(("kpis:read",))
        api.problem(await reader.request("GET", "/partners"), 403)
        api.problem(await reader.request("GET", "/tiers"), 403)

    async def test_writing_needs_partners_write(self, api: Api) -> None:
        partner = await api.create()
        reader = api.as_principal(("partners:read",))
        api.problem(await reader.post_partner(), 403)
        api.problem(await reader.patch(partner["id"], {"name": "x"}), 403)
        api.problem(await reader.transition(partner["id"], "onboarding"), 403)
        api.problem(await reader.set_tier(partner["id"], "gold"), 403)
        api.problem(await reader.put_territories(partner["id"], []), 403)
        api.problem(await reader.request("PUT", "/tiers", json=[]), 403)

    async def test_admin_holds_every_scope(self, api: Api) -> None:
        admin = api.as_principal(("admin",))
        assert (await admin.post_partner()).status_code == 201


class TestPartnerBoundReads:
    async def test_lists_only_its_own_partner_and_children(self, family: Family) -> None:
        portal = family.portal
        assert await portal.codes() == ["B-CHILD", "B-OWN"]
        assert await portal.codes(q="B-") == ["B-CHILD", "B-OWN"]
        assert await portal.codes(parent_id=family.own["id"]) == ["B-CHILD"]
        hidden = {"parent_id": family.other["id"]}
        portal.problem(await portal.request("GET", "/partners", params=hidden), 404)
        assert await portal.codes(f"/partners/{family.own['id']}/children") == ["B-CHILD"]
        assert await portal.codes(f"/partners/{family.child['id']}/children") == []

    async def test_reads_its_own_partner_and_children(self, family: Family) -> None:
        portal = family.portal
        for partner in (family.own, family.child):
            assert (await portal.get(partner["id"])).status_code == 200
            by_code = await portal.request("GET", f"/partners/by-code/{partner['code']}")
            assert by_code.status_code == 200
            for suffix in ("/history", "/history/verify", "/qualification-check"):
                response = await portal.request("GET", f"/partners/{partner['id']}{suffix}")
                assert response.status_code == 200, (suffix, response.text)

    @pytest.mark.parametrize("whose", ["grandchild", "other", "others_child"])
    async def test_anyone_elses_partner_is_404(self, family: Family, whose: str) -> None:
        portal, partner = family.portal, getattr(family, whose)
        portal.problem(await portal.get(partner["id"]), 404)
        portal.problem(await portal.request("GET", f"/partners/by-code/{partner['code']}"), 404)
        for suffix in ("/children", "/history", "/history/verify", "/qualification-check"):
            response = await portal.request("GET", f"/partners/{partner['id']}{suffix}")
            portal.problem(response, 404)

    async def test_territory_owner_only_when_it_is_visible(self, family: Family) -> None:
        portal = family.portal
        assert (await portal.owner("CN-GD-SZ")).json()["partner_code"] == "B-OWN"
        portal.problem(await portal.owner("CN-BJ"), 404)

    async def test_reads_the_tier_ladder(self, family: Family) -> None:
        assert (await family.portal.request("GET", "/tiers")).status_code == 200


class TestPartnerBoundWrites:
    async def test_patches_its_own_contact_data(self, family: Family) -> None:
        response = await family.portal.patch(
            family.own["id"], {"contact": {"phone": "+86 20 5555"}, "reason": "new office"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["contact"]["phone"] == "+86 20 5555"

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "Mine now"},
            {"qualification": {"service_staff": 999}},
            {"parent_id": None},
            {"attributes": {}},
            {"region": "CN"},
        ],
    )
    async def test_may_not_patch_anything_else(self, family: Family, body: dict[str, Any]) -> None:
        family.portal.problem(await family.portal.patch(family.own["id"], body), 403)

    async def test_may_not_patch_its_children(self, family: Family) -> None:
        body = {"contact": {"phone": "+86 1"}}
        family.portal.problem(await family.portal.patch(family.child["id"], body), 403)

    async def test_may_not_register_partners(self, family: Family) -> None:
        family.portal.problem(await family.portal.post_partner(), 403)

    async def test_may_not_move_tiers_status_or_territories(self, family: Family) -> None:
        portal, pid = family.portal, family.own["id"]
        portal.problem(await portal.transition(pid, "onboarding"), 403)
        portal.problem(await portal.set_tier(pid, "platinum"), 403)
        portal.problem(await portal.put_territories(pid, []), 403)
        ladder = (await portal.request("GET", "/tiers")).json()
        portal.problem(await portal.request("PUT", "/tiers", json=ladder), 403)

    @pytest.mark.parametrize("whose", ["grandchild", "other"])
    async def test_writes_to_anyone_elses_partner_are_404(self, family: Family, whose: str) -> None:
        portal, pid = family.portal, getattr(family, whose)["id"]
        portal.problem(await portal.patch(pid, {"contact": {"phone": "+86 1"}}), 404)
        portal.problem(await portal.transition(pid, "onboarding"), 404)
        portal.problem(await portal.set_tier(pid, "gold"), 404)
        portal.problem(await portal.put_territories(pid, []), 404)
