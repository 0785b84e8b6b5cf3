"""The exact-decimal wire format: plain notation, one serialiser, three ways with places."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import pytest
from channel_common import ExactDecimal, decimal_serializer, format_decimal
from pydantic import BaseModel

D = Decimal


class TestFormatDecimal:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            ("1E+2", "100"),
            ("1234.50", "1234.5"),
            ("0.1250", "0.125"),
            ("-0.0", "0"),
            ("0E-6", "0"),
            ("-12.300", "-12.3"),
            ("1E-7", "0.0000001"),
        ],
    )
    def test_trims_trailing_zeros_without_exponent(self, value: str, text: str) -> None:
        assert format_decimal(D(value)) == text

    @pytest.mark.parametrize(
        ("value", "text"),
        [("12.50", "12.50"), ("1E+3", "1000"), ("0E-8", "0.00000000"), ("-3", "-3")],
    )
    def test_keeps_the_places_a_value_carries(self, value: str, text: str) -> None:
        assert format_decimal(D(value), "kept") == text
        assert format_decimal(D(value), "kept") == format(D(value), "f")

    @pytest.mark.parametrize(
        ("value", "text"),
        [("12.5", "12.50"), ("1E+3", "1000.00"), ("0", "0.00"), ("0.125", "0.12")],
    )
    def test_fixed_places_as_an_f_string_gives_them(self, value: str, text: str) -> None:
        assert format_decimal(D(value), 2) == text == f"{D(value):.2f}"


class Figures(BaseModel):
    plain: ExactDecimal
    money: Annotated[Decimal, decimal_serializer(2)]
    kept: Annotated[Decimal, decimal_serializer("kept", when_used="always")]


class TestSerializers:
    def test_json_output_is_strings(self) -> None:
        figures = Figures(plain=D("1E+2"), money=D("3.5"), kept=D("0.050"))
        assert figures.model_dump_json() == '{"plain":"100","money":"3.50","kept":"0.050"}'

    def test_python_dumps_keep_decimals_unless_always(self) -> None:
        figures = Figures(plain=D("1.0"), money=D("3.5"), kept=D("0.050"))
        assert figures.model_dump() == {"plain": D("1.0"), "money": D("3.5"), "kept": "0.050"}

    def test_the_schema_says_string(self) -> None:
        properties = Figures.model_json_schema(mode="serialization")["properties"]
        assert {name: p["type"] for name, p in properties.items()} == {
            "plain": "string",
            "money": "string",
            "kept": "string",
        }
