"""Territories: replace a partner's list under the exclusivity rule, and find a region's holder.

Two exclusive territories of different live partners may not overlap: the same region, or one
containing the other (`CN-GD` contains `CN-GD-SZ`). Non-exclusive territories never conflict.
A terminated partner holds nothing any more.
"""

from __future__ import annotations

import uuid
from typing import Any

from channel_common import (
    ConflictError,
    NotFoundError,
    Principal,
    SQLModelSession,
    check_if_match,
    refuse_partner_bound,
)

from .. import repo
from ..events import PARTNER_TERRITORIES_CHANGED
from ..models import Territory
from ..schemas import PartnerRead, TerritoriesReplace, TerritoryOwnerRead
from .access import can_see, visible_partner
from .changes import announce, bump
from .partners import refuse_terminated
from .views import as_json, partner_read, territory_reads

__all__ = ["find_owner", "replace_territories"]


async def replace_territories(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    data: TerritoriesReplace,
    actor: Principal,
    if_match: str | None,
) -> PartnerRead:
    """Replace the partner's territories; 409 naming the holder of any overlapping exclusive
    territory."""
    partner = await visible_partner(
        session, partner_id=partner_id, principal=actor, for_update=True
    )
    refuse_partner_bound(actor, "change territories")
    check_if_match(if_match, version=partner.version)
    refuse_terminated(partner)
    await repo.lock_partner_graph(session)
    conflicts: list[dict[str, Any]] = []
    for wanted in data.territories:
        if not wanted.exclusive:
            continue
        overlaps = await repo.find_exclusive_overlaps(
            session, region=wanted.region, other_than=partner.id
        )
        conflicts += [
            {
                "region": wanted.region,
                "held_region": held.region,
                "holder": {"id": str(holder.id), "code": holder.code},
            }
            for held, holder in overlaps
        ]
    if conflicts:
        named = "; ".join(
            f"{c['region']} overlaps {c['held_region']} held by partner "
            f"{c['holder']['code']} ({c['holder']['id']})"
            for c in conflicts
        )
        raise ConflictError(
            f"Exclusive territory conflict: {named}.", extra={"conflicts": conflicts}
        )
    current = (await repo.territories_of(session, partner_ids=[partner.id]))[partner.id]
    before = as_json(territory_reads(current))
    rows = [
        Territory(partner_id=partner.id, region=t.region, exclusive=t.exclusive)
        for t in data.territories
    ]
    after = as_json(territory_reads(rows))
    if before == after:
        return await partner_read(session, partner)
    await repo.replace_territories(session, partner_id=partner.id, territories=rows)
    bump(partner)
    return await announce(
        session,
        partner=partner,
        subject=PARTNER_TERRITORIES_CHANGED,
        action="territories_replaced",
        actor=actor,
        reason=data.reason,
        before={"territories": before},
        after={"territories": after},
    )


async def find_owner(
    session: SQLModelSession, *, region: str, principal: Principal
) -> TerritoryOwnerRead:
    """The live partner holding `region`, or its nearest ancestor, exclusively (else 404)."""
    holders = await repo.find_exclusive_holders(session, region=region)
    if holders:
        territory, partner = max(holders, key=lambda pair: len(pair[0].region))
        if can_see(principal, partner):
            return TerritoryOwnerRead(
                region=region,
                held_region=territory.region,
                partner_id=partner.id,
                partner_code=partner.code,
                partner_name=partner.name,
            )
    raise NotFoundError(f"No partner holds {region} exclusively.")
