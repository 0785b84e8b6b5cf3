"""Ingestion of JSON batches: per-item acceptance, exact storage, idempotent retries,
aggregates and chunked events in the same transaction."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from channel_common import OutboxMessage
from channel_common.testing import app_client
from kpi_svc.app import create_app
from kpi_svc.models import Aggregate, Observation
from kpi_svc.settings import Settings

from .conftest import Kpi, obs, problem

RECORDED = "kpi.observations.recorded.v1"
UPDATED = "kpi.aggregates.updated.v1"


def events(rows: list[OutboxMessage], subject: str) -> list[dict[str, Any]]:
    return [json.loads(row.payload) for row in rows if row.subject == subject]


class TestPerItemAcceptance:
    async def test_stores_exactly_the_good_items(self, kpi: Kpi) -> None:
        active = await kpi.partner()
        ended = await kpi.partner(status="terminated")
        answer = await kpi.ingest(
            [
                obs(active, value="100.25"),
                obs(str(uuid.uuid4())),
                obs(ended),
                obs(active, "footfall"),
                obs(active, "conversion_rate", value="1.5"),
                obs(active, "units_sold", value="-1"),
                obs(active, "conversion_rate", value="0.25"),
            ]
        )
        assert answer["accepted"] == 2 and answer["duplicates"] == 0
        assert [(r["index"], r["code"]) for r in answer["rejected"]] == [
            (1, "unknown_partner"),
            (2, "partner_terminated"),
            (3, "unknown_kpi"),
            (4, "out_of_range"),
            (5, "out_of_range"),
        ]
        assert answer["rejected_count"] == 5
        assert all(r["detail"] for r in answer["rejected"])
        stored = {(o.kpi, o.value_micro) for o in await kpi.rows(Observation)}
        assert stored == {("sales_amount", 100_250_000), ("conversion_rate", 250_000)}

    async def test_values_are_exact_from_numbers_and_strings(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        body = (
            '{"observations": ['
            f'{{"partner_id": "{partner}", "kpi": "sales_amount", "value": 0.1, '
            '"occurred_on": "2026-10-15"},'
            f'{{"partner_id": "{partner}", "kpi": "sales_amount", "value": 0.2, '
            '"occurred_on": "2026-10-15"},'
            f'{{"partner_id": "{partner}", "kpi": "sales_amount", "value": 123456789012.123456, '
            '"occurred_on": "2026-10-15"}]}'
        )
        response = await kpi.request(
            "POST", "/observations", content=body, headers={"content-type": "application/json"}
        )
        assert response.json()["accepted"] == 3, response.text
        series = await kpi.ok(
            "/kpis/sales_amount/series",
            partner_id=partner,
            granularity="day",
            **{"from": "2026-10-15", "to": "2026-10-15"},
        )
        assert series == [{"period": "2026-10-15", "value": "123456789012.423456", "count": 3}]

    async def test_a_partner_portal_may_only_report_its_own_figures(self, kpi: Kpi) -> None:
        own, other = await kpi.partner(), await kpi.partner()
        portal = kpi.as_principal(partner_id=own)
        answer = (await portal.post_batch([obs(own), obs(other)])).json()
        assert answer["accepted"] == 1
        assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(1, "forbidden_partner")]

    async def test_needs_write_scope(self, kpi: Kpi) -> None:
        reader = kpi.as_principal(("kpis:read",))
        problem(await reader.post_batch([obs(await kpi.partner())]), 403)


class TestSchemaInvalidBatch:
    @pytest.mark.parametrize(
        "bad",
        [
            {"value": "abc"},
            {"value": "1.0000001"},
            {"value": "NaN"},
            {"occurred_on": "2026-02-30"},
            {"partner_id": "not-a-uuid"},
            {"colour": "red"},
            {"region": "CN GD"},
        ],
    )
    async def test_stores_nothing(self, kpi: Kpi, bad: dict[str, Any]) -> None:
        partner = await kpi.partner()
        response = await kpi.post_batch([obs(partner), obs(partner, **bad)])
        body = problem(response, 422)
        assert body["errors"]
        assert await kpi.rows(Observation) == []
        assert await kpi.rows(OutboxMessage) == []

    async def test_empty_and_oversized_batches_are_422(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        problem(await kpi.post_batch([]), 422)
        problem(await kpi.post_batch([obs(partner)] * 10_001), 422)

    async def test_malformed_json_is_400(self, kpi: Kpi) -> None:
        response = await kpi.request(
            "POST",
            "/observations",
            content=b'{"observations": [',
            headers={"content-type": "application/json"},
        )
        problem(response, 400)


class TestIdempotentRetries:
    async def test_a_replayed_batch_changes_nothing(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        items = [obs(partner, id=str(uuid.uuid4()), value=str(i)) for i in range(1, 4)]
        first = await kpi.ingest(items)
        before = {(a.period, a.total_micro, a.version) for a in await kpi.rows(Aggregate)}
        outbox_before = len(await kpi.rows(OutboxMessage))
        again = await kpi.ingest(items)
        assert (first["accepted"], first["duplicates"]) == (3, 0)
        assert (again["accepted"], again["duplicates"]) == (0, 3)
        assert len(await kpi.rows(Observation)) == 3
        assert {(a.period, a.total_micro, a.version) for a in await kpi.rows(Aggregate)} == before
        assert len(await kpi.rows(OutboxMessage)) == outbox_before

    async def test_a_repeated_id_within_a_batch_counts_once(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        same = str(uuid.uuid4())
        answer = await kpi.ingest([obs(partner, id=same), obs(partner, id=same, value="99")])
        assert (answer["accepted"], answer["duplicates"]) == (1, 1)
        (stored,) = await kpi.rows(Observation)
        assert stored.value_micro == 10_000_000

    async def test_items_without_id_get_one(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        answer = await kpi.ingest([obs(partner), obs(partner)])
        assert answer["accepted"] == 2
        assert len({o.id for o in await kpi.rows(Observation)}) == 2

    async def test_idempotency_key_replays_the_answer(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        headers = {"Idempotency-Key": "batch-7"}
        first = await kpi.post_batch([obs(partner)], headers=headers)
        second = await kpi.post_batch([obs(partner)], headers=headers)
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert len(await kpi.rows(Observation)) == 1


class TestAggregatesAndEvents:
    async def test_day_and_month_aggregates_follow_each_batch(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        await kpi.ingest(
            [obs(partner, value="5"), obs(partner, value="7", occurred_on="2026-10-16")]
        )
        await kpi.ingest([obs(partner, value="3")])
        aggregates = {(a.granularity, a.period): a for a in await kpi.rows(Aggregate)}
        assert set(aggregates) == {
            ("day", "2026-10-15"),
            ("day", "2026-10-16"),
            ("month", "2026-10"),
        }
        month = aggregates["month", "2026-10"]
        assert (month.total_micro, month.count, month.min_micro, month.max_micro) == (
            15_000_000,
            3,
            3_000_000,
            7_000_000,
        )
        assert month.last_micro == 7_000_000 and month.version == 2
        assert aggregates["day", "2026-10-16"].version == 1

    async def test_one_batch_announces_observations_and_aggregates(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        await kpi.ingest(
            [
                obs(partner, "conversion_rate", value="0.2"),
                obs(partner, "conversion_rate", value="0.3"),
            ]
        )
        outbox = await kpi.rows(OutboxMessage)
        (recorded,) = events(outbox, RECORDED)
        (updated,) = events(outbox, UPDATED)
        assert recorded["part"] == 1
        assert sorted(o["value"] for o in recorded["observations"]) == ["0.2", "0.3"]
        assert recorded["observations"][0]["partner_id"] == partner
        assert {
            (u["granularity"], u["period"], u["value"], u["count"], u["version"])
            for u in updated["updates"]
        } == {
            ("day", "2026-10-15", "0.25", 2, 1),
            ("month", "2026-10", "0.25", 2, 1),
        }
        assert updated["batch_id"] == recorded["batch_id"]

    async def test_large_batches_are_chunked_under_the_size_limit(
        self, settings: Settings, kpi: Kpi
    ) -> None:
        small = settings.model_copy(update={"event_max_bytes": 8 * 1024})
        partner = await kpi.partner()
        items = [
            obs(partner, value=str(i), occurred_on=f"2026-10-{1 + i % 28:02d}") for i in range(300)
        ]
        async with app_client(create_app(small)) as client:
            response = await client.post(
                "/api/v1/observations", json={"observations": items}, headers=kpi.headers
            )
        assert response.json()["accepted"] == 300
        outbox = await kpi.rows(OutboxMessage)
        assert all(len(row.payload) <= 8 * 1024 for row in outbox)
        recorded = events(outbox, RECORDED)
        assert len(recorded) > 1
        assert sorted(r["part"] for r in recorded) == list(range(1, len(recorded) + 1))
        assert sum(len(r["observations"]) for r in recorded) == 300
        updates = [u for e in events(outbox, UPDATED) for u in e["updates"]]
        assert len(updates) == 29  # 28 days and the month, once each
        month = next(u for u in updates if u["granularity"] == "month")
        assert Decimal(month["value"]) == sum(range(300)) and month["count"] == 300

    async def test_escaped_sources_stay_under_the_size_limit(
        self, settings: Settings, kpi: Kpi
    ) -> None:
        small = settings.model_copy(update={"event_max_bytes": 4 * 1024})
        partner = await kpi.partner()
        sources = ['店铺 "东" 🏬', "back\\slash", "tab\tline", "x" * 100]
        items = [obs(partner, value=str(i), source=sources[i % 4]) for i in range(200)]
        async with app_client(create_app(small)) as client:
            response = await client.post(
                "/api/v1/observations", json={"observations": items}, headers=kpi.headers
            )
        assert response.json()["accepted"] == 200
        outbox = await kpi.rows(OutboxMessage)
        assert all(len(row.payload) <= 4 * 1024 for row in outbox)
        recorded = [o for e in events(outbox, RECORDED) for o in e["observations"]]
        assert sorted(o["source"] for o in recorded) == sorted(i["source"] for i in items)


class TestLimits:
    async def test_an_aggregate_beyond_the_exact_range_stores_nothing(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        huge = [obs(partner, value="999999999999.999999") for _ in range(5)]
        assert (await kpi.ingest(huge))["accepted"] == 5
        body = problem(await kpi.post_batch(huge), 422)
        assert body["errors"][0]["loc"] == ["body", "observations"]
        assert len(await kpi.rows(Observation)) == 5
        (month,) = [a for a in await kpi.rows(Aggregate) if a.granularity == "month"]
        assert month.count == 5 and month.version == 1
        other = await kpi.partner()
        problem(await kpi.post_batch([obs(other, value="999999999999")] * 10), 422)
        assert len(await kpi.rows(Observation)) == 5


class TestObservability:
    async def test_counts_ingested_and_rejected_items(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        await kpi.ingest([obs(partner), obs(partner, "footfall")])
        text = (await kpi.client.get("/metrics")).text
        assert 'kpi_observations_ingested_total{channel="http"}' in text
        assert 'kpi_observations_rejected_total{code="unknown_kpi"}' in text
        assert partner not in text

    async def test_openapi_documents_every_route(self, kpi: Kpi) -> None:
        document = (await kpi.client.get("/openapi.json")).json()
        operations = [
            (path, method, operation)
            for path, item in document["paths"].items()
            if path.startswith("/api/v1")
            for method, operation in item.items()
        ]
        assert len(operations) == 13
        for path, method, operation in operations:
            assert operation["summary"] and operation["tags"], (path, method)
            assert any(code.startswith("4") for code in operation["responses"]), (path, method)
        body = document["paths"]["/api/v1/observations:import"]["post"]["requestBody"]
        assert set(body["content"]) == {"text/csv", "application/x-ndjson"}
