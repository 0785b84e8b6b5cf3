"""Bulk files: CSV and NDJSON streamed line by line, errors reported by line number."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from channel_common import IdempotencyRecord, OutboxMessage, utcnow
from channel_common.testing import app_client
from kpi_svc.app import create_app
from kpi_svc.importing import numbered_lines
from kpi_svc.models import Observation
from kpi_svc.settings import Settings

from .conftest import Kpi, problem

CSV = {"content-type": "text/csv"}
NDJSON = {"content-type": "application/x-ndjson"}
JSON = {"content-type": "application/json"}


async def chunked(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def post_import(kpi: Kpi, body: bytes | AsyncIterator[bytes], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return await kpi.request("POST", "/observations:import", content=body, headers=headers)


def ndjson(partner: str, **overrides: Any) -> str:
    """One NDJSON line of an observation."""
    fields = {"partner_id": partner, "kpi": "units_sold", "value": 2, "occurred_on": "2026-10-01"}
    return json.dumps({**fields, **overrides})


def codes(answer: dict) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    return [(r["index"], r["code"]) for r in answer["rejected"]]


class TestCsvImport:
    async def test_reports_errors_on_their_lines(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        stranger = uuid.uuid4()
        lines = [
            "partner_id,kpi,value,occurred_on,region,source",
            f"{partner},sales_amount,100.50,2026-10-01,CN-GD,erp",
            f"{partner},sales_amount,abc,2026-10-01,,",
            "",
            f"{stranger},sales_amount,1,2026-10-01,,",
            f"{partner},units_sold,3,2026-10-02",
            f'{partner},units_sold,4,2026-10-02,,"pos, store 9"',
        ]
        response = await post_import(kpi, "\r\n".join(lines).encode(), CSV)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["accepted"] == 2
        assert codes(answer) == [(3, "invalid_line"), (5, "unknown_partner"), (6, "invalid_line")]
        assert "value" in answer["rejected"][0]["detail"]
        stored = {(o.kpi, o.value_micro, o.region, o.source) for o in await kpi.rows(Observation)}
        assert stored == {
            ("sales_amount", 100_500_000, "CN-GD", "erp"),
            ("units_sold", 4_000_000, None, "pos, store 9"),
        }

    async def test_an_unusable_header_stores_nothing(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        body = f"partner,kpi,value,occurred_on\n{partner},sales_amount,1,2026-10-01\n".encode()
        problem(await post_import(kpi, body, CSV), 422)
        assert await kpi.rows(Observation) == []

    async def test_a_header_that_is_not_a_csv_row_is_422(self, kpi: Kpi) -> None:
        # Found by the battery (H1): a bare carriage return in the header raised csv.Error → 500.
        partner = await kpi.partner()
        body = f"partner_id,kpi\rx,value,occurred_on\n{partner},sales_amount,1,2026-10-01\n"
        problem(await post_import(kpi, body.encode(), CSV), 422)
        assert await kpi.rows(Observation) == []

    async def test_a_retried_file_with_ids_is_all_duplicates(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        body = (
            "id,partner_id,kpi,value,occurred_on\n"
            + "".join(f"{uuid.uuid4()},{partner},units_sold,{i},2026-10-01\n" for i in range(5))
        ).encode()
        first = (await post_import(kpi, body, CSV)).json()
        again = (await post_import(kpi, body, CSV)).json()
        assert (first["accepted"], again["accepted"], again["duplicates"]) == (5, 0, 5)


class TestNdjsonImport:
    async def test_streams_in_chunks_and_reports_line_numbers(
        self, settings: Settings, kpi: Kpi
    ) -> None:
        partner = await kpi.partner()
        lines = [ndjson(partner, occurred_on=f"2026-10-0{day}") for day in range(1, 6)]
        lines.insert(2, "{not json")
        lines.insert(4, '["a list"]')
        lines.insert(5, ndjson(partner, value="0.1234567"))
        small = settings.model_copy(update={"import_chunk_lines": 2})
        async with app_client(create_app(small)) as client:
            response = await client.post(
                "/api/v1/observations:import",
                content=chunked("\n".join(lines).encode()),
                headers={**kpi.headers, **NDJSON},
            )
        answer = response.json()
        assert answer["accepted"] == 5, answer
        assert codes(answer) == [(3, "invalid_line"), (5, "invalid_line"), (6, "invalid_line")]
        assert len(await kpi.rows(Observation)) == 5
        recorded = [
            json.loads(row.payload)
            for row in sorted(await kpi.rows(OutboxMessage), key=lambda row: row.seq)
            if row.subject == "kpi.observations.recorded.v1"
        ]
        # Chunks of two lines: parts numbered across the whole import, one batch id.
        assert [r["part"] for r in recorded] == [1, 2, 3]
        assert {r["batch_id"] for r in recorded} == {answer["batch_id"]}

    async def test_an_overlong_line_is_rejected_without_stopping(
        self, settings: Settings, kpi: Kpi
    ) -> None:
        partner = await kpi.partner()
        body = "\n".join([ndjson(partner), ndjson(partner, source="x" * 500), ndjson(partner)])
        small = settings.model_copy(update={"import_max_line_bytes": 200})
        async with app_client(create_app(small)) as client:
            response = await client.post(
                "/api/v1/observations:import",
                content=chunked(body.encode(), 64),
                headers={**kpi.headers, **NDJSON},
            )
        answer = response.json()
        assert answer["accepted"] == 2 and codes(answer) == [(2, "invalid_line")]

    async def test_other_content_types_are_415(self, kpi: Kpi) -> None:
        problem(await post_import(kpi, b"{}", {"content-type": "application/json"}), 415)


class TestImportIdempotencyKey:
    async def test_the_same_key_and_file_replay_the_answer(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        # No ids: without the key, a second run would store every line again.
        body = "\n".join(ndjson(partner, value=i) for i in range(1, 4)).encode()
        headers = {**NDJSON, "Idempotency-Key": "import-1"}
        first = await post_import(kpi, chunked(body), headers)
        outbox = len(await kpi.rows(OutboxMessage))
        second = await post_import(kpi, chunked(body, 5), headers)
        assert first.status_code == second.status_code == 200, second.text
        assert first.json()["accepted"] == 3
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert len(await kpi.rows(Observation)) == 3
        assert len(await kpi.rows(OutboxMessage)) == outbox

    async def test_the_same_key_with_another_file_is_422(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        headers = {**NDJSON, "Idempotency-Key": "import-2"}
        first = await post_import(kpi, ndjson(partner, value=1).encode(), headers)
        other = await post_import(kpi, ndjson(partner, value=2).encode(), headers)
        assert first.status_code == 200
        problem(other, 422)
        assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
        assert [o.value_micro for o in await kpi.rows(Observation)] == [1_000_000]

    async def test_another_principal_with_the_same_key_imports_anew(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        body = ndjson(partner).encode()
        headers = {**NDJSON, "Idempotency-Key": "import-3"}
        await post_import(kpi, body, headers)
        other = await post_import(kpi.as_principal(), body, headers)
        assert other.status_code == 200 and "idempotent-replayed" not in other.headers
        assert len(await kpi.rows(Observation)) == 2

    async def test_a_failed_import_frees_the_key(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        headers = {**CSV, "Idempotency-Key": "import-4"}
        problem(await post_import(kpi, b"partner_id,value\n1,2\n", headers), 422)
        problem(await post_import(kpi, b"{}", {**headers, **JSON}), 415)
        assert await kpi.rows(IdempotencyRecord) == []
        body = f"partner_id,kpi,value,occurred_on\n{partner},units_sold,2,2026-10-01\n"
        retried = await post_import(kpi, body.encode(), headers)
        assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers
        assert retried.json()["accepted"] == 1

    async def test_the_same_key_while_the_first_runs_is_409(self, kpi: Kpi) -> None:
        partner = await kpi.partner()
        lines = [ndjson(partner, value=1).encode(), ndjson(partner, value=2).encode()]
        headers = {**NDJSON, "Idempotency-Key": "import-5"}
        sent_first_line, finish = asyncio.Event(), asyncio.Event()

        async def held_open() -> AsyncIterator[bytes]:
            yield lines[0] + b"\n"
            sent_first_line.set()
            await finish.wait()
            yield lines[1]

        running = asyncio.create_task(post_import(kpi, held_open(), headers))
        try:
            await asyncio.wait_for(sent_first_line.wait(), 10)
            # The key is claimed before the body is read, and stays claimed while it streams.
            claims = await kpi.rows(IdempotencyRecord)
            duplicate = await post_import(kpi, b"\n".join(lines), headers)
        finally:
            finish.set()
            first = await asyncio.wait_for(running, 10)
        assert [claim.status_code for claim in claims] == [None]
        problem(duplicate, 409)
        assert first.status_code == 200 and first.json()["accepted"] == 2
        replay = await post_import(kpi, b"\n".join(lines), headers)
        assert replay.headers["idempotent-replayed"] == "true"
        assert len(await kpi.rows(Observation)) == 2

    async def test_an_abandoned_claim_is_taken_over_after_its_lock(
        self, settings: Settings, kpi: Kpi
    ) -> None:
        partner = await kpi.partner()
        body = ndjson(partner).encode()
        headers = {**kpi.headers, **NDJSON, "Idempotency-Key": "import-6"}
        async with kpi.sessions() as session:  # a claim left by a process that died
            session.add(
                IdempotencyRecord(
                    principal="ops-alice", key="import-6", request_hash="streaming",
                    locked_until=utcnow() - timedelta(seconds=1),
                )
            )  # fmt: skip
            await session.commit()
        response = await kpi.client.post("/api/v1/observations:import", content=body,
                                          headers=headers)  # fmt: skip
        assert response.status_code == 200 and response.json()["accepted"] == 1
        (record,) = await kpi.rows(IdempotencyRecord)
        assert record.status_code == 200 and len(record.request_hash) == 64


class TestNumberedLines:
    async def test_splits_across_chunks_and_keeps_numbers(self) -> None:
        data = b"a\r\nbb\n\nccc\nlast"
        seen = [item async for item in numbered_lines(chunked(data, 2), max_line_bytes=3)]
        assert seen == [
            (1, b"a"),
            (2, b"bb"),
            (3, b""),
            (4, b"ccc"),
            (5, None),
        ]

    async def test_marks_overlong_lines(self) -> None:
        data = b"12345678\nok\n"
        seen = [item async for item in numbered_lines(chunked(data, 3), max_line_bytes=4)]
        assert seen == [(1, None), (2, b"ok")]
