"""Lifecycle transitions, admission criteria and tier changes."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Api

STATES = ["prospect", "onboarding", "active", "suspended", "terminated"]
ALLOWED = {
    ("prospect", "onboarding"),
    ("prospect", "terminated"),
    ("onboarding", "active"),
    ("onboarding", "terminated"),
    ("active", "suspended"),
    ("active", "terminated"),
    ("suspended", "active"),
    ("suspended", "terminated"),
}
# How to bring a new partner into each state.
PATHS = {
    "prospect": [],
    "onboarding": ["onboarding"],
    "active": ["onboarding", "active"],
    "suspended": ["onboarding", "active", "suspended"],
    "terminated": ["terminated"],
}
REFUSED = sorted(set(itertools.product(STATES, STATES)) - ALLOWED)


async def partner_in(api: Api, state: str, **overrides: object) -> dict[str, object]:
    partner = await api.create(**overrides)
    if PATHS[state]:
        partner = await api.move(str(partner["id"]), *PATHS[state])
    assert partner["status"] == state
    return partner


class TestTransitions:
    @pytest.mark.parametrize(("start", "to"), sorted(ALLOWED))
    async def test_allows_the_graph_edges(self, api: Api, start: str, to: str) -> None:
        partner = await partner_in(api, start)
        response = await api.transition(str(partner["id"]), to, reason="because")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == to
        assert body["version"] == int(str(partner["version"])) + 1
        assert response.headers["etag"] == f'"{body["version"]}"'

    @pytest.mark.parametrize(("start", "to"), REFUSED)
    async def test_refuses_every_other_move(self, api: Api, start: str, to: str) -> None:
        partner = await partner_in(api, start)
        body = api.problem(await api.transition(str(partner["id"]), to), 409)
        allowed = sorted(b for a, b in ALLOWED if a == start)
        assert body["current"] == start
        assert sorted(body["allowed"]) == allowed
        for state in allowed:
            assert state in body["detail"]
        assert (await api.get(str(partner["id"]))).json()["status"] == start

    async def test_refuses_prospect_to_active(self, api: Api) -> None:
        partner = await api.create()
        body = api.problem(await api.transition(partner["id"], "active"), 409)
        assert body["allowed"] == ["onboarding", "terminated"]

    async def test_terminated_is_final(self, api: Api) -> None:
        partner = await partner_in(api, "terminated")
        body = api.problem(await api.transition(str(partner["id"]), "active"), 409)
        assert body["allowed"] == []
        assert "final" in body["detail"]

    @pytest.mark.parametrize("body", [{"to": "active"}, {"to": "gone", "reason": "x"}, {}])
    async def test_refuses_an_invalid_request(self, api: Api, body: dict[str, str]) -> None:
        partner = await api.create()
        response = await api.request("POST", f"/partners/{partner['id']}/transitions", json=body)
        api.problem(response, 422)


class TestAdmission:
    async def test_activation_needs_the_tiers_criteria(self, api: Api) -> None:
        partner = await partner_in(
            api,
            "onboarding",
            tier="gold",
            qualification={"registered_capital": "9999999.99", "years_in_business": 5},
        )
        body = api.problem(await api.transition(str(partner["id"]), "active"), 409)
        assert body["tier"] == "gold"
        assert body["checks"] == [
            {
                "criterion": "registered_capital",
                "required": "10000000.00",
                "actual": "9999999.99",
                "passed": False,
            },
            {"criterion": "years_in_business", "required": 5, "actual": 5, "passed": True},
            {"criterion": "service_staff", "required": 20, "actual": None, "passed": False},
        ]
        assert "registered_capital" in body["detail"] and "service_staff" in body["detail"]

    async def test_activation_passes_once_qualified(self, api: Api) -> None:
        partner = await partner_in(api, "onboarding", tier="platinum")
        await api.patch(str(partner["id"]), {"qualification": api.QUALIFIED})
        response = await api.transition(str(partner["id"]), "active")
        assert response.status_code == 200, response.text

    async def test_reactivation_checks_again(self, api: Api) -> None:
        partner = await partner_in(api, "suspended", tier="silver", qualification=api.QUALIFIED)
        await api.patch(str(partner["id"]), {"qualification": {"service_staff": 1}})
        body = api.problem(await api.transition(str(partner["id"]), "active"), 409)
        assert [c["criterion"] for c in body["checks"] if not c["passed"]] == ["service_staff"]

    async def test_the_lowest_tier_admits_unknown_figures(self, api: Api) -> None:
        await partner_in(api, "active")

    async def test_qualification_check_reports_each_criterion(self, api: Api) -> None:
        partner = await api.create(
            tier="silver",
            qualification={"registered_capital": 2000000, "years_in_business": 2},
        )
        url = f"/partners/{partner['id']}/qualification-check"
        own = (await api.request("GET", url)).json()
        assert own["tier"] == "silver" and own["eligible"] is False
        assert [c["passed"] for c in own["checks"]] == [True, True, False]
        other = (await api.request("GET", url, params={"tier": "registered"})).json()
        assert other == {
            "tier": "registered",
            "eligible": True,
            "checks": [
                {
                    "criterion": "registered_capital",
                    "required": "0.00",
                    "actual": "2000000.00",
                    "passed": True,
                },
                {"criterion": "years_in_business", "required": 0, "actual": 2, "passed": True},
                {"criterion": "service_staff", "required": 0, "actual": None, "passed": True},
            ],
        }
        body = api.problem(await api.request("GET", url, params={"tier": "diamond"}), 422)
        assert body["errors"][0]["loc"] == ["query", "tier"]


class TestTierChange:
    async def test_moves_the_partner_and_answers_with_it(self, api: Api) -> None:
        partner = await api.create()
        response = await api.set_tier(partner["id"], "gold", reason="promotion")
        assert response.status_code == 200, response.text
        assert response.json()["tier"] == "gold"
        assert response.json()["version"] == 2
        assert response.headers["etag"] == '"2"'

    async def test_an_active_partner_must_meet_the_new_tier(self, api: Api) -> None:
        partner = await partner_in(api, "active", qualification={"registered_capital": "20000000"})
        body = api.problem(await api.set_tier(str(partner["id"]), "gold"), 409)
        assert body["tier"] == "gold"
        assert {c["criterion"] for c in body["checks"] if not c["passed"]} == {
            "years_in_business",
            "service_staff",
        }
        assert (await api.get(str(partner["id"]))).json()["tier"] == "registered"

    async def test_an_active_qualified_partner_moves_up(self, api: Api) -> None:
        partner = await partner_in(api, "active", qualification=api.QUALIFIED)
        assert (await api.set_tier(str(partner["id"]), "platinum")).status_code == 200

    async def test_refuses_the_current_tier(self, api: Api) -> None:
        partner = await api.create(tier="silver")
        api.problem(await api.set_tier(partner["id"], "silver"), 409)

    async def test_refuses_an_unknown_tier(self, api: Api) -> None:
        partner = await api.create()
        body = api.problem(await api.set_tier(partner["id"], "diamond"), 422)
        assert body["errors"][0]["loc"] == ["body", "tier"]

    async def test_refuses_a_terminated_partner(self, api: Api) -> None:
        partner = await partner_in(api, "terminated")
        api.problem(await api.set_tier(str(partner["id"]), "gold"), 409)

    async def test_needs_a_reason(self, api: Api) -> None:
        partner = await api.create()
        response = await api.request(
            "POST", f"/partners/{partner['id']}/tier", json={"tier": "gold"}
        )
        api.problem(response, 422)
