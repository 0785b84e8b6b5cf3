"""ETags of single resources without a version column: runs, and statements as their actions
answer them (DESIGN.md §3: single resources return `ETag`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from conftest import Api, Feed

Q3 = {"2026-07": "50000.00", "2026-08": "50000.00", "2026-09": "52300.00"}


async def start_run(api: Api, program_id: str, period: str = "2026-Q3") -> str:
    """Start a run; its id."""
    body = {"program_id": program_id, "period": period}
    response = await api.request("POST", "/rebate-runs", json=body)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["id"]
    return run_id


async def read(api: Api, url: str) -> httpx.Response:
    """GET `url`, which must answer 200 with a strong ETag."""
    response = await api.request("GET", url)
    assert response.status_code == 200, response.text
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2, etag
    return response


class TestRunEtag:
    async def test_is_stable_across_reads(self, api: Api, feed: Feed) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], Q3)
        run_id = await start_run(api, (await api.create_program())["id"])

        first = await read(api, f"/rebate-runs/{run_id}")
        second = await read(api, f"/rebate-runs/{run_id}")

        assert first.headers["ETag"] == second.headers["ETag"]
        assert first.json() == second.json()

    async def test_differs_between_runs(self, api: Api, feed: Feed) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], Q3)
        pid = (await api.create_program())["id"]
        q3, q2 = await start_run(api, pid, "2026-Q3"), await start_run(api, pid, "2026-Q2")

        tags = {(await read(api, f"/rebate-runs/{run}")).headers["ETag"] for run in (q3, q2)}

        assert len(tags) == 2

    async def test_changes_when_a_statement_of_the_run_is_settled(
        self, api: Api, feed: Feed
    ) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], Q3)
        run_id = await start_run(api, (await api.create_program())["id"])
        fresh = await read(api, f"/rebate-runs/{run_id}")
        (statement,) = fresh.json()["statements"]
        url = f"/rebate-statements/{statement['id']}"

        assert (await api.request("POST", f"{url}/approve")).status_code == 200
        approved = await read(api, f"/rebate-runs/{run_id}")
        paid = await api.request("POST", f"{url}/mark-paid", json={"payment_ref": "PAY-7"})
        assert paid.status_code == 200, paid.text
        settled = await read(api, f"/rebate-runs/{run_id}")

        assert approved.json()["statements"][0]["status"] == "approved"
        assert len({r.headers["ETag"] for r in (fresh, approved, settled)}) == 3

    async def test_changes_when_a_later_run_takes_over_its_drafts(
        self, api: Api, feed: Feed
    ) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], {"2026-07": "40000"})
        pid = (await api.create_program())["id"]
        first_id = await start_run(api, pid)
        before = await read(api, f"/rebate-runs/{first_id}")
        await feed.sales(partner["id"], {"2026-08": "20000"})

        await start_run(api, pid)
        after = await read(api, f"/rebate-runs/{first_id}")

        assert before.json()["statements"] != after.json()["statements"]
        assert before.headers["ETag"] != after.headers["ETag"]

    async def test_a_partner_portal_gets_the_tag_of_its_own_view(
        self, api: Api, feed: Feed
    ) -> None:
        mine, theirs = await feed.partner(), await feed.partner()
        await feed.sales(mine["id"], Q3)
        await feed.sales(theirs["id"], {"2026-07": "1000.00"})
        run_id = await start_run(api, (await api.create_program())["id"])
        portal = api.as_principal(("rebates:read",), partner_id=mine["id"])

        everyone = await read(api, f"/rebate-runs/{run_id}")
        own = await read(portal, f"/rebate-runs/{run_id}")

        assert [s["partner_id"] for s in own.json()["statements"]] == [mine["id"]]
        assert own.headers["ETag"] != everyone.headers["ETag"]


class TestStatementActionEtag:
    async def test_each_action_answers_the_tag_a_later_read_shows(
        self, api: Api, feed: Feed
    ) -> None:
        partner = await feed.partner()
        await feed.sales(partner["id"], Q3)
        run_id = await start_run(api, (await api.create_program())["id"])
        (statement,) = (await read(api, f"/rebate-runs/{run_id}")).json()["statements"]
        url = f"/rebate-statements/{statement['id']}"
        tags = [(await read(api, url)).headers["ETag"]]

        for action, body in (("approve", None), ("mark-paid", {"payment_ref": "PAY-8"})):
            answer = await api.request("POST", f"{url}/{action}", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.headers["ETag"] == (await read(api, url)).headers["ETag"]
            tags.append(answer.headers["ETag"])

        assert tags == ['"1"', '"2"', '"3"']

    async def test_voiding_answers_the_new_tag(self, api: Api, feed: Feed) -> None:
        await feed.partner()
        run_id = await start_run(api, (await api.create_program())["id"])
        (statement,) = (await read(api, f"/rebate-runs/{run_id}")).json()["statements"]
        url = f"/rebate-statements/{statement['id']}"
        before = (await read(api, url)).headers["ETag"]

        voided = await api.request("POST", f"{url}/void")

        assert voided.status_code == 200, voided.text
        assert voided.headers["ETag"] != before
        assert voided.headers["ETag"] == (await read(api, url)).headers["ETag"]
