"""Table rows to API models, and money between decimals and integer minor units."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from channel_common import SQLModelSession

from .. import repo
from ..models import Partner, Territory, Tier
from ..schemas import (
    Contact,
    PartnerRead,
    PartnerStatus,
    PartnerType,
    Qualification,
    TerritoryRead,
    TierAdmission,
    TierRead,
)

__all__ = ["from_minor", "partner_read", "partner_reads", "tier_read", "to_minor"]

_MINOR_PER_UNIT = 100


def to_minor(amount: Decimal) -> int:
    """An amount with at most two decimals as integer minor units (exact)."""
    return int((amount * _MINOR_PER_UNIT).to_integral_value())


def from_minor(minor: int) -> Decimal:
    """Integer minor units as a decimal with two places."""
    return Decimal(minor).scaleb(-2)


def contact_of(partner: Partner) -> Contact:
    """The partner's contact data."""
    return Contact.model_construct(
        name=partner.contact_name, email=partner.contact_email, phone=partner.contact_phone
    )


def qualification_of(partner: Partner) -> Qualification:
    """The partner's qualification figures."""
    capital = partner.registered_capital_minor
    return Qualification.model_construct(
        registered_capital=None if capital is None else from_minor(capital),
        years_in_business=partner.years_in_business,
        service_staff=partner.service_staff,
    )


def territory_reads(territories: Sequence[Territory]) -> list[TerritoryRead]:
    """Territories by region."""
    ordered = sorted(territories, key=lambda t: t.region)
    return [TerritoryRead(region=t.region, exclusive=t.exclusive) for t in ordered]


def build_read(partner: Partner, territories: Sequence[Territory]) -> PartnerRead:
    """The API view of a partner with the given territories."""
    return PartnerRead.model_construct(
        id=partner.id,
        code=partner.code,
        name=partner.name,
        type=cast(PartnerType, partner.type),
        tier=partner.tier,
        region=partner.region,
        parent_id=partner.parent_id,
        status=cast(PartnerStatus, partner.status),
        contact=contact_of(partner),
        qualification=qualification_of(partner),
        attributes=dict(partner.attributes),
        territories=territory_reads(territories),
        created_at=partner.created_at,
        updated_at=partner.updated_at,
        version=partner.version,
    )


async def partner_read(session: SQLModelSession, partner: Partner) -> PartnerRead:
    """The API view of one partner."""
    territories = await repo.territories_of(session, partner_ids=[partner.id])
    return build_read(partner, territories[partner.id])


async def partner_reads(session: SQLModelSession, partners: Sequence[Partner]) -> list[PartnerRead]:
    """The API views of several partners (one query for all their territories)."""
    territories = await repo.territories_of(session, partner_ids=[p.id for p in partners])
    return [build_read(p, territories[p.id]) for p in partners]


def tier_read(tier: Tier) -> TierRead:
    """The API view of a tier."""
    return TierRead(
        key=tier.key,
        name=tier.name,
        rank=tier.rank,
        admission=TierAdmission(
            min_registered_capital=from_minor(tier.min_registered_capital_minor),
            min_years_in_business=tier.min_years_in_business,
            min_service_staff=tier.min_service_staff,
        ),
    )


def as_json(model: Any) -> Any:
    """A pydantic model (or list of them) as JSON-ready values."""
    if isinstance(model, list):
        return [as_json(item) for item in model]
    return model.model_dump(mode="json")
