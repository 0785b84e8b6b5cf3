"""Who may see and change which partner: a partner-bound principal (a partner portal) sees its
own partner and its direct children; anything else does not exist for it (404)."""

from __future__ import annotations

import uuid

from channel_common import NotFoundError, Principal, SQLModelSession

from .. import repo
from ..models import Partner

__all__ = ["can_see", "visible_partner"]


def can_see(principal: Principal, partner: Partner) -> bool:
    """Whether `principal` may read `partner`."""
    bound = principal.partner_id
    return bound is None or partner.id == bound or partner.parent_id == bound


async def visible_partner(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    principal: Principal,
    for_update: bool = False,
) -> Partner:
    """The partner, or 404 when it does not exist or `principal` may not see it."""
    partner = await repo.get_partner(session, partner_id=partner_id, for_update=for_update)
    if partner is None or not can_see(principal, partner):
        raise NotFoundError("Partner not found.")
    return partner
