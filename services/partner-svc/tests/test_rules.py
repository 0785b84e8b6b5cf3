"""Unit tests of the rules that need no database: regions, admission, the hash recipe,
money and event payloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from partner_svc.events import PARTNER_REGISTERED, PARTNER_UPDATED, event_payload
from partner_svc.models import HistoryEntry, Partner, Tier
from partner_svc.repo import ancestor_regions
from partner_svc.schemas import PartnerCreate, TierLadder
from partner_svc.service.ledger import GENESIS_HASH, canonical_json, entry_hash
from partner_svc.service.lifecycle import TRANSITIONS, evaluate
from partner_svc.service.views import from_minor, to_minor
from pydantic import ValidationError


def make_partner(**overrides: object) -> Partner:
    values: dict[str, object] = {
        "code": "U-1",
        "name": "Unit",
        "type": "agent",
        "tier": "gold",
        "region": "CN",
        "status": "onboarding",
        **overrides,
    }
    return Partner(**values)


GOLD = Tier(
    key="gold",
    name="Gold",
    rank=2,
    min_registered_capital_minor=10_000_000_00,
    min_years_in_business=5,
    min_service_staff=20,
)


class TestRegions:
    @pytest.mark.parametrize(
        ("region", "ancestors"),
        [("CN", []), ("CN-GD", ["CN"]), ("CN-GD-SZ", ["CN", "CN-GD"])],
    )
    def test_lists_the_containing_regions(self, region: str, ancestors: list[str]) -> None:
        assert ancestor_regions(region) == ancestors


class TestAdmissionRules:
    def test_exactly_the_minimum_passes(self) -> None:
        partner = make_partner(
            registered_capital_minor=10_000_000_00, years_in_business=5, service_staff=20
        )
        assert evaluate(partner, GOLD).eligible

    def test_one_cent_short_fails(self) -> None:
        partner = make_partner(
            registered_capital_minor=9_999_999_99, years_in_business=5, service_staff=20
        )
        report = evaluate(partner, GOLD)
        assert not report.eligible
        assert report.checks[0].actual == Decimal("9999999.99")
        assert [c.passed for c in report.checks] == [False, True, True]

    def test_unknown_figures_fail_unless_nothing_is_required(self) -> None:
        assert not evaluate(make_partner(), GOLD).eligible
        free = Tier(key="registered", name="Registered", rank=4)
        assert evaluate(make_partner(), free).eligible


class TestLifecycleGraph:
    def test_is_the_documented_graph(self) -> None:
        assert TRANSITIONS == {
            "prospect": ("onboarding", "terminated"),
            "onboarding": ("active", "terminated"),
            "active": ("suspended", "terminated"),
            "suspended": ("active", "terminated"),
            "terminated": (),
        }


class TestHashRecipe:
    def entry(self, **overrides: object) -> HistoryEntry:
        values: dict[str, object] = {
            "partner_id": uuid.UUID(int=1),
            "position": 1,
            "action": "created",
            "actor": "ops",
            "reason": None,
            "at": datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
            "version": 1,
            "before": None,
            "after": canonical_json({"name": "A", "status": "prospect"}),
            "prev_hash": GENESIS_HASH,
            "hash": "",
            **overrides,
        }
        return HistoryEntry(**values)

    def test_is_stable_and_ignores_json_whitespace_and_key_order(self) -> None:
        reordered = self.entry(after='{ "status": "prospect", "name": "A" }')
        assert entry_hash(self.entry()) == entry_hash(reordered)
        assert len(entry_hash(self.entry())) == 64

    @pytest.mark.parametrize(
        "change",
        [
            {"reason": "x"},
            {"actor": "eve"},
            {"position": 2},
            {"version": 2},
            {"prev_hash": "1" * 64},
            {"at": datetime(2026, 10, 1, 8, 0, 0, 1, tzinfo=UTC)},
            {"after": canonical_json({"name": "B", "status": "prospect"})},
            {"partner_id": uuid.UUID(int=2)},
        ],
    )
    def test_covers_every_field(self, change: dict[str, object]) -> None:
        assert entry_hash(self.entry(**change)) != entry_hash(self.entry())


class TestMoney:
    @pytest.mark.parametrize(
        ("amount", "minor"), [("0", 0), ("0.01", 1), ("1234.5", 123450), ("1e3", 100000)]
    )
    def test_minor_units_round_trip_exactly(self, amount: str, minor: int) -> None:
        assert to_minor(Decimal(amount)) == minor
        assert from_minor(minor) == Decimal(amount)

    def test_accepts_numbers_and_strings_and_returns_strings(self) -> None:
        base = {"code": "M", "name": "M", "type": "agent", "region": "CN"}
        for raw in ("0.1", '"0.10"'):
            data = PartnerCreate.model_validate_json(
                f'{{"code": "M", "name": "M", "type": "agent", "region": "CN", '
                f'"qualification": {{"registered_capital": {raw}}}}}'
            )
            assert data.qualification.registered_capital == Decimal("0.1")
            assert '"registered_capital":"0.10"' in data.model_dump_json()
        with pytest.raises(ValidationError):
            PartnerCreate.model_validate({**base, "qualification": {"registered_capital": "NaN"}})


class TestLadderShape:
    def test_refuses_duplicate_ranks(self) -> None:
        with pytest.raises(ValidationError):
            TierLadder.model_validate(
                [{"key": "a", "name": "A", "rank": 1}, {"key": "b", "name": "B", "rank": 1}]
            )


class TestEventPayload:
    SNAPSHOT = {
        "id": str(uuid.UUID(int=1)),
        "code": "E",
        "name": "E",
        "type": "agent",
        "tier": "gold",
        "region": "CN",
        "parent_id": None,
        "status": "prospect",
        "contact": {"name": None, "email": None, "phone": None},
        "qualification": {
            "registered_capital": "10.50",
            "years_in_business": None,
            "service_staff": None,
        },
        "attributes": {},
        "territories": [],
        "created_at": "2026-10-01T08:00:00Z",
        "updated_at": "2026-10-01T08:00:00Z",
        "version": 3,
    }

    def test_previous_keeps_only_the_changed_fields(self) -> None:
        data = event_payload(
            PARTNER_UPDATED, snapshot=self.SNAPSHOT, previous={"parent_id": None}, reason=None
        )
        assert data["previous"] == {"parent_id": None}
        assert data["qualification"]["registered_capital"] == "10.50"
        assert data["version"] == 3 and data["reason"] is None

    def test_registration_has_no_previous(self) -> None:
        data = event_payload(PARTNER_REGISTERED, snapshot=self.SNAPSHOT, reason="fair")
        assert "previous" not in data and data["reason"] == "fair"
