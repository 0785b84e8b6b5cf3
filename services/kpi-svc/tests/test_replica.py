"""The partner replica: full snapshots from `partner.*` events, the highest version kept."""

from __future__ import annotations

import json

import pytest
from kpi_svc.models import Partner
from pydantic import ValidationError

from .conftest import Kpi, make_partner_snapshot


class TestPartnerReplica:
    async def test_keeps_the_fields_kpi_svc_needs(self, kpi: Kpi) -> None:
        snapshot = make_partner_snapshot(
            tier="platinum",
            region="CN-GD-SZ",
            territories=[{"region": "CN-GD", "exclusive": True}],
            brand_new_field={"nested": 1},
        )
        await kpi.apply_snapshot(snapshot)
        (partner,) = await kpi.rows(Partner)
        assert (partner.code, partner.tier, partner.region, partner.type, partner.status) == (
            snapshot["code"],
            "platinum",
            "CN-GD-SZ",
            "distributor",
            "active",
        )
        assert json.loads(partner.territories) == [{"region": "CN-GD", "exclusive": True}]
        assert partner.version == 1

    async def test_a_newer_snapshot_replaces_the_stored_one(self, kpi: Kpi) -> None:
        snapshot = make_partner_snapshot()
        await kpi.apply_snapshot(snapshot)
        await kpi.apply_snapshot({**snapshot, "tier": "silver", "version": 2})
        (partner,) = await kpi.rows(Partner)
        assert (partner.tier, partner.version) == ("silver", 2)

    @pytest.mark.parametrize("late_version", [1, 2])
    async def test_an_older_or_equal_snapshot_changes_nothing(
        self, kpi: Kpi, late_version: int
    ) -> None:
        snapshot = make_partner_snapshot(version=2, status="suspended")
        await kpi.apply_snapshot(snapshot)
        await kpi.apply_snapshot({**snapshot, "status": "terminated", "version": late_version})
        (partner,) = await kpi.rows(Partner)
        assert (partner.status, partner.version) == ("suspended", 2)

    async def test_a_snapshot_without_required_fields_is_refused(self, kpi: Kpi) -> None:
        snapshot = make_partner_snapshot()
        del snapshot["tier"]
        with pytest.raises(ValidationError):
            await kpi.apply_snapshot(snapshot)
        assert await kpi.rows(Partner) == []
