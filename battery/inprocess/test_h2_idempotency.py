"""H2: `Idempotency-Key` under concurrent duplicates — each key sent 10 times at once makes
exactly one effect; every replay is the stored answer, byte for byte; the key with a
different body is 422."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from battery_support import report, sized
from channel_common.testing import bearer
from inprocess.conftest import LONG_TTL, Started

KEYS = sized(1000, 10000)
DUPLICATES = 10
KEYS_AT_ONCE = 4


def partner(key: int) -> dict[str, str]:
    return {"code": f"H2-{key:06d}", "name": f"Partner {key}", "type": "agent", "region": "CN"}


async def test_concurrent_duplicates_make_one_effect_and_identical_replays(
    started: Started,
) -> None:
    outcomes: Counter[str] = Counter()
    bad: list[str] = []
    async with started("partner") as (svc, client):
        headers = bearer(
            svc.settings, ["partners:read", "partners:write"], subject="erp", ttl_seconds=LONG_TTL
        )

        async def post(key: int, body: dict[str, str]) -> httpx.Response:
            idem = {**headers, "Idempotency-Key": f"h2-key-{key}"}
            return await client.post("/api/v1/partners", json=body, headers=idem)

        async def one_key(key: int) -> None:
            answers = await asyncio.gather(*(post(key, partner(key)) for _ in range(DUPLICATES)))
            created = [r for r in answers if r.status_code == 201]
            originals = [r for r in created if "idempotent-replayed" not in r.headers]
            for r in answers:
                replayed = r.headers.get("idempotent-replayed") == "true"
                outcomes["replayed" if replayed else str(r.status_code)] += 1
            if len(originals) != 1 or any(r.status_code not in (201, 409) for r in answers):
                bad.append(f"key {key}: {[r.status_code for r in answers]}")
                return
            # Once settled, the key answers the stored response again, identically.
            replay = await post(key, partner(key))
            if replay.headers.get("idempotent-replayed") != "true" or (
                replay.status_code,
                replay.content,
            ) != (201, originals[0].content):
                bad.append(f"key {key}: replay {replay.status_code} {replay.text[:200]}")
            other = await post(key, {**partner(key), "name": "A different body"})
            outcomes[f"different_body_{other.status_code}"] += 1

        for start in range(0, KEYS, KEYS_AT_ONCE):
            await asyncio.gather(
                *(one_key(k) for k in range(start, min(KEYS, start + KEYS_AT_ONCE)))
            )
        effects, cursor = 0, None
        while True:
            params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            listed = await client.get("/api/v1/partners", params=params, headers=headers)
            assert listed.status_code == 200, listed.text
            page = listed.json()
            effects += len(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    figures = report(
        "H2",
        keys=KEYS,
        requests=KEYS * DUPLICATES,
        effects=effects,
        originals=outcomes["201"],
        replayed=outcomes["replayed"],
        in_flight_409=outcomes["409"],
        different_body_422=outcomes["different_body_422"],
    )
    assert not bad, "\n".join(bad[:20])
    assert figures["effects"] == figures["originals"] == KEYS
    assert (
        figures["originals"] + figures["replayed"] + figures["in_flight_409"] == KEYS * DUPLICATES
    )
    assert figures["different_body_422"] == KEYS
