"""R7: one poison event among 10k — exactly `max_deliver` deliveries, one dead-letter record,
the rest processed.

rebate-svc runs as a process on its own NATS; the test publishes well-formed
`kpi.aggregates.updated.v1` events (each a different partner and month) and, in the middle, one
whose data cannot be parsed. The soak size is the issue's 10,000; CI publishes 2,000, because
one consumer applies ~40-50 events/s on a loaded two-core machine and the whole battery must
stay well inside CI's budget (the poison's path does not depend on the count)."""

from __future__ import annotations

import asyncio
import uuid

import nats
from battery_support import report, sized
from channel_common import build_headers, encode_data
from faults.drill import make_suite, metric, rows, wait_for

EVENTS = sized(2_000, 10_000)
MAX_DELIVER = 5
DURABLE = "rebate-kpi-aggregates"
SUBJECT = "kpi.aggregates.updated.v1"


def _update(n: int) -> dict[str, object]:
    return {
        "updates": [
            {
                "partner_id": str(uuid.UUID(int=n + 1)),
                "kpi": "sales_amount",
                "granularity": "month",
                "period": f"2026-{n % 12 + 1:02d}",
                "value": f"{n}.25",
                "count": 1,
                "version": 1,
            }
        ]
    }


async def _publish_all(url: str, poison_at: int) -> str:
    """Publish the events in order; the id of the poison event."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    poison_id = ""
    try:
        for start in range(0, EVENTS, 500):
            acks = []
            for n in range(start, min(start + 500, EVENTS)):
                headers = build_headers(event_type=SUBJECT, source="battery")
                data: dict[str, object] = _update(n)
                if n == poison_at:
                    poison_id = headers["ce-id"]
                    data = {"updates": [{"partner_id": "not-a-uuid", "version": "x"}]}
                acks.append(js.publish(SUBJECT, encode_data(data), headers=headers, timeout=30))
            await asyncio.gather(*acks)
    finally:
        await nc.close()
    return poison_id


async def test_r7_one_poison_event_is_dead_lettered_and_the_rest_processed() -> None:
    env = {"REBATE_CONSUMER_MAX_DELIVER": str(MAX_DELIVER)}
    with make_suite(["rebate"], env=env) as suite:
        assert suite.nats is not None
        poison_id = await _publish_all(suite.nats.url, poison_at=EVENTS // 2)

        async def drained() -> bool:
            applied = await metric(
                suite, "rebate", "channel_events_consumed_total", consumer=DURABLE, result="applied"
            )
            dead = await metric(suite, "rebate", "channel_consumer_dead_letters_total")
            return applied >= EVENTS - 1 and dead >= 1

        seconds = await wait_for(drained, timeout=600, step=1.0)
        await asyncio.sleep(3)  # a delivery past max_deliver would show up by now

        def consumed(result: str) -> object:
            return metric(
                suite, "rebate", "channel_events_consumed_total", consumer=DURABLE, result=result
            )

        applied, failed = await consumed("applied"), await consumed("failed")
        duplicates = await consumed("duplicate")
        redeliveries = await metric(
            suite, "rebate", "channel_consumer_redeliveries_total", consumer=DURABLE
        )
        dead = await rows(
            suite, "rebate", "SELECT consumer, event_id, deliveries FROM dead_letters"
        )
        projected = await rows(suite, "rebate", "SELECT count(*) FROM rebate_kpi_aggregates")
    figures = report(
        "R7",
        attempted=EVENTS,
        acknowledged=EVENTS,
        processed=int(applied),
        projected=projected[0][0],
        poison_deliveries=int(failed),
        redeliveries=int(redeliveries),
        dead_letters=len(dead),
        duplicated=int(duplicates),
        lost=EVENTS - 1 - projected[0][0],
        unexpected=0,
        max_deliver=MAX_DELIVER,
        drain_seconds=round(seconds, 1),
    )
    assert figures["poison_deliveries"] == MAX_DELIVER
    assert figures["redeliveries"] == MAX_DELIVER - 1
    assert dead == [(DURABLE, poison_id, MAX_DELIVER)]
    assert figures["processed"] == EVENTS - 1
    assert figures["projected"] == EVENTS - 1
    assert figures["duplicated"] == 0
