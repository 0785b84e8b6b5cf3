"""The registry of condition types: every type is declared once and judged on one basis."""

from __future__ import annotations

from typing import Any, get_args

from alert_svc.conditions import Basis, Condition, ConditionType, condition_class, types_on
from pydantic import TypeAdapter


def _union_members() -> tuple[Any, ...]:
    union = get_args(Condition)[0]  # Annotated[Union[...], Field(discriminator=...)]
    return get_args(union)


class TestRegistry:
    def test_the_union_and_the_literal_name_the_same_types(self) -> None:
        members = {m.model_fields["type"].annotation: m for m in _union_members()}
        declared = {get_args(literal)[0]: model for literal, model in members.items()}
        assert set(declared) == set(get_args(ConditionType))
        for name, model in declared.items():
            assert condition_class(name) is model

    def test_each_type_is_judged_on_one_basis(self) -> None:
        bases = [types_on(basis) for basis in get_args(Basis)]
        assert sorted(t for types in bases for t in types) == sorted(get_args(ConditionType))
        assert {"threshold", "change", "anomaly"} <= set(types_on("aggregates"))
        assert "out_of_territory" in types_on("observations")
        assert "absence" in types_on("elapsed")

    def test_a_stored_condition_parses_to_its_class(self) -> None:
        adapter: TypeAdapter[Condition] = TypeAdapter(Condition)
        parsed = adapter.validate_python({"type": "absence", "days": 3})
        assert type(parsed) is condition_class("absence")
        assert parsed.single_period is True
