"""Exact aggregate state, exact scaled numbers and size-bounded event chunks."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest
from channel_common import format_decimal
from kpi_svc.aggregation import AggregateState, Aggregation, group_value, merge_all
from kpi_svc.events import RecordedObservation, chunk_by_length, chunk_by_size
from kpi_svc.scaled import (
    from_micro,
    mean_text,
    micro_text,
    round_value,
    to_micro,
)

D = Decimal

LOW, HIGH = uuid.UUID(int=1), uuid.UUID(int=2)


def state(value: str, day: int, observation_id: uuid.UUID = LOW) -> AggregateState:
    return AggregateState.of(
        value=to_micro(D(value)), occurred_on=date(2026, 10, day), observation_id=observation_id
    )


class TestAggregateState:
    def test_answers_every_aggregation(self) -> None:
        merged = merge_all([state("1", 3), state("2", 1), state("4", 2)])
        values = {kind: merged.value(kind) for kind in Aggregation}
        assert values == {
            Aggregation.SUM: D("7"),
            Aggregation.AVG: D("2.333333"),
            Aggregation.MIN: D("1"),
            Aggregation.MAX: D("4"),
            Aggregation.LAST: D("1"),
        }

    def test_last_breaks_same_day_ties_by_the_greater_id(self) -> None:
        one = state("5", 7, HIGH).merge(state("6", 7, LOW))
        other = state("6", 7, LOW).merge(state("5", 7, HIGH))
        assert one == other and one.value(Aggregation.LAST) == D("5")

    def test_groups_pool_averages_and_sum_last_values(self) -> None:
        a = [state("1", 1), state("3", 2)]
        b = [state("8", 1)]
        assert group_value([a, b], Aggregation.AVG) == (D("4"), 3)
        assert group_value([a, b], Aggregation.LAST) == (D("11"), 3)
        assert group_value([a, b], Aggregation.MAX) == (D("8"), 3)


class TestScaled:
    def test_round_trips_six_places(self) -> None:
        for text in ("0", "0.000001", "-12.5", "999999999999.999999"):
            assert from_micro(to_micro(D(text))) == D(text)
        with pytest.raises(ValueError, match="6 decimal places"):
            to_micro(D("0.0000001"))

    def test_formats_without_exponent_or_trailing_zeros(self) -> None:
        assert [format_decimal(D(t)) for t in ("1E+2", "1234.50", "0.1250", "-0.0", "0E-6")] == [
            "100",
            "1234.5",
            "0.125",
            "0",
            "0",
        ]


class TestChunkBySize:
    def test_every_chunk_stays_under_the_limit_and_nothing_is_lost(self) -> None:
        items = [
            RecordedObservation(
                id=uuid.uuid4(),
                partner_id=uuid.uuid4(),
                kpi="sales_amount",
                value=D(i),
                occurred_on=date(2026, 10, 1),
                region=None,
                source="x" * (i % 50),
            )
            for i in range(500)
        ]
        chunks = chunk_by_size(items, max_bytes=4096)
        assert len(chunks) > 1
        assert [item for chunk in chunks for item in chunk] == items
        for chunk in chunks:
            body = "[" + ",".join(item.model_dump_json() for item in chunk) + "]"
            assert len(body.encode()) <= 4096 - 1024


class TestChunkByLength:
    def test_cuts_like_the_encoded_lists(self) -> None:
        items = [{"source": "x" * (i % 50), "n": i} for i in range(500)]
        lengths = [len(json.dumps(item, separators=(",", ":"))) for item in items]
        chunks = chunk_by_length(items, lengths, max_bytes=4096)
        assert len(chunks) > 1
        assert [item for chunk in chunks for item in chunk] == items
        for chunk in chunks:
            assert len(json.dumps(chunk, separators=(",", ":"))) <= 4096 - 1024


class TestIntegerFormatting:
    @pytest.mark.parametrize("micro", [0, 1, -1, 10**6, -125_000, 1_234_500_000, 2**63 - 1])
    def test_micro_text_matches_the_decimal_format(self, micro: int) -> None:
        assert micro_text(micro) == format_decimal(from_micro(micro))

    @pytest.mark.parametrize(
        ("total", "count"),
        [(5, 2), (-5, 2), (7, 3), (-7, 3), (1, 3), (2, 3), (0, 9), (2**63 - 1, 7), (15, 10**8)],
    )
    def test_mean_text_rounds_half_up_like_decimals(self, total: int, count: int) -> None:
        assert mean_text(total, count) == format_decimal(round_value(from_micro(total) / count))
