"""The health score and target resolution, on exact decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kpi_svc.scoring import Component, ScopedTarget, attainment, health_score, resolve_target

D = Decimal


class TestAttainment:
    @pytest.mark.parametrize(
        ("value", "target", "higher_is_better", "expected"),
        [
            ("90", "100", True, "0.9"),
            ("150", "100", True, "1.2"),
            ("-5", "100", True, "0"),
            ("2", "3", True, "0.6667"),
            ("50", "40", False, "0.8"),
            ("20", "40", False, "1.2"),
            ("5", "0", True, "1.2"),
            ("0", "0", True, "1"),
            ("0", "10", False, "1.2"),
        ],
    )
    def test_ratio_clipped_and_inverted(
        self, value: str, target: str, higher_is_better: bool, expected: str
    ) -> None:
        result = attainment(D(value), D(target), higher_is_better=higher_is_better)
        assert result == D(expected)


class TestHealthScore:
    def test_weights_only_kpis_with_value_and_target(self) -> None:
        score, rows = health_score(
            [
                Component("a", D("90"), D("100"), D("0.5"), True),
                Component("b", D("120"), D("100"), D("0.25"), True),
                Component("c", D("1"), None, D("0.25"), True),
                Component("d", D("30"), D("20"), D("0.25"), False),
            ]
        )
        # (0.5·0.9 + 0.25·1 + 0.25·(20/30)) / 1.0 = 0.45 + 0.25 + 0.1666… → 86.67
        assert score == D("86.67")
        assert [(r.attainment, r.contribution) for r in rows] == [
            (D("0.9"), D("45.00")),
            (D("1.2"), D("25.00")),
            (None, None),
            (D("0.6667"), D("16.67")),
        ]

    def test_no_weight_no_score(self) -> None:
        score, rows = health_score([Component("a", D("1"), D("2"), D("0"), True)])
        assert score is None and rows[0].attainment == D("0.5")


class TestResolveTarget:
    TARGETS = (
        ScopedTarget("all", "", D(1)),
        ScopedTarget("region", "CN", D(2)),
        ScopedTarget("region", "CN-GD", D(3)),
        ScopedTarget("tier", "gold", D(4)),
        ScopedTarget("partner", "p1", D(5)),
    )

    @pytest.mark.parametrize(
        ("partner", "tier", "region", "expected"),
        [
            ("p1", "gold", "CN-GD", 5),
            ("p2", "gold", "US", 4),
            ("p2", "silver", "CN-GD-SZ", 3),
            ("p2", "silver", "CN-GDX", 2),
            ("p2", "silver", "CN", 2),
            ("p2", "silver", "US", 1),
        ],
    )
    def test_most_specific_wins(self, partner: str, tier: str, region: str, expected: int) -> None:
        chosen = resolve_target(self.TARGETS, partner_id=partner, tier=tier, region=region)
        assert chosen is not None and chosen.value == expected

    def test_none_applies(self) -> None:
        only_gold = [ScopedTarget("tier", "gold", D(4))]
        assert resolve_target(only_gold, partner_id="p", tier="silver", region="CN") is None
