"""The story's shared state and the small helpers its steps use: polling with the last value
in the failure message, and exact decimals out of JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from e2e_receiver import Receiver, signature_is_valid
from suite import Suite

__all__ = [
    "POLL_SECONDS",
    "STORY_TODAY",
    "Story",
    "accruals_by_code",
    "alerts_of_rule",
    "dec",
    "get_alert",
    "ok",
    "one_receipt",
    "owed_by_code",
    "poll",
    "receipts_of",
    "summary_of",
    "transition",
]

STORY_TODAY = "2025-12-31"
# Events cross three processes on a loaded 2-core machine: wait generously, poll gently
# (the gateway's rate limit is 50 requests/s per key).
POLL_SECONDS = 120.0
POLL_INTERVAL = 0.25
T = TypeVar("T")


@dataclass
class Story:
    """What the steps learn and hand on; `done` lists the steps that passed."""

    suite: Suite
    receiver: Receiver
    ids: dict[str, str] = field(default_factory=dict)  # partner code → id
    codes: dict[str, str] = field(default_factory=dict)  # partner id → code
    webhook_id: str = ""
    webhook_secret: str = ""
    rule_id: str = ""
    alert_id: str = ""
    program_id: str = ""
    statements: dict[str, str] = field(default_factory=dict)  # partner code → original id
    done: list[str] = field(default_factory=list)

    def require(self, *steps: str) -> None:
        """Fail at once (not after long timeouts) when an earlier step did not pass."""
        missing = [step for step in steps if step not in self.done]
        if missing:
            pytest.fail(f"an earlier step failed: {', '.join(missing)}")


def dec(value: Any) -> Decimal | None:
    """A JSON decimal (string or number) as an exact Decimal; None stays None."""
    return None if value is None else Decimal(str(value))


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have `status`."""
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


async def poll(
    fetch: Callable[[], Awaitable[T]],
    reached: Callable[[T], bool],
    what: str,
    timeout: float = POLL_SECONDS,
) -> T:
    """Fetch until `reached(value)`; AssertionError naming `what` and the last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await fetch()
        if reached(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout:.0f} s; last: {value!r}")
        await asyncio.sleep(POLL_INTERVAL)


def receipts_of(story: Story, event_type: str) -> list[dict[str, Any]]:
    """The bodies of the webhook deliveries of `event_type` received so far, each checked to
    carry a valid Standard Webhooks signature under the story's secret. A delivery retried
    after a slow answer arrives again with the same `webhook-id`: counted once, as a receiver
    de-duplicates."""
    found: dict[str, dict[str, Any]] = {}
    for receipt in story.receiver.receipts():
        body = json.loads(receipt.body)
        if body.get("type") != event_type:
            continue
        assert signature_is_valid(story.webhook_secret, receipt), receipt.headers
        assert receipt.headers["content-type"] == "application/json"
        found.setdefault(receipt.headers["webhook-id"], body)
    return list(found.values())


async def transition(client: httpx.AsyncClient, partner_id: str, to: str) -> httpx.Response:
    """Move a partner along its lifecycle."""
    return await client.post(
        f"/api/v1/partners/{partner_id}/transitions", json={"to": to, "reason": f"e2e: {to}"}
    )


async def accruals_by_code(client: httpx.AsyncClient, story: Story) -> dict[str, tuple[Any, ...]]:
    """The program's accruals by partner code, as the figures module writes them."""
    page = ok(await client.get("/api/v1/accruals", params={"program_id": story.program_id}))
    return {
        story.codes[row["partner_id"]]: (
            dec(row["basis_value"]), row["tier_index"], dec(row["accrued_amount"]),
            dec(row["next_tier_from"]), dec(row["distance_to_next"]),
            dec(row["projected_basis"]), dec(row["projected_amount"]), row["period"],
        )
        for row in page["items"]
    }  # fmt: skip


async def get_alert(client: httpx.AsyncClient, alert_id: str) -> dict[str, Any]:
    """One alert."""
    return ok(await client.get(f"/api/v1/alerts/{alert_id}"))  # type: ignore[no-any-return]


async def alerts_of_rule(client: httpx.AsyncClient, rule_id: str) -> list[dict[str, Any]]:
    """The alerts of a rule."""
    return ok(await client.get("/api/v1/alerts", params={"rule_id": rule_id}))["items"]  # type: ignore[no-any-return]


async def one_receipt(story: Story, event_type: str) -> dict[str, Any]:
    """The one signed delivery of `event_type` (waits for it; a second one fails)."""

    async def received() -> list[dict[str, Any]]:
        return receipts_of(story, event_type)

    bodies = await poll(received, lambda found: len(found) >= 1, f"a {event_type} webhook")
    assert len(bodies) == 1, bodies
    assert bodies[0]["type"] == event_type
    return bodies[0]


async def summary_of(
    client: httpx.AsyncClient, story: Story, kpi: str, period: str
) -> dict[str, Any]:
    """A KPI's summary rows for a period, by partner code."""
    page = ok(await client.get(f"/api/v1/kpis/{kpi}/summary", params={"period": period}))
    return {story.codes[row["group"]]: row for row in page["items"]}


async def owed_by_code(client: httpx.AsyncClient, story: Story, period: str) -> dict[str, Decimal]:
    """The sum of the program's non-void statements for a period, by partner code."""
    params: dict[str, str | int] = {"program_id": story.program_id, "period": period, "limit": 500}
    page = ok(await client.get("/api/v1/rebate-statements", params=params))
    owed: dict[str, Decimal] = {}
    for row in page["items"]:
        if row["status"] != "void":
            code = story.codes[row["partner_id"]]
            owed[code] = owed.get(code, Decimal(0)) + Decimal(row["amount"])
    return owed
