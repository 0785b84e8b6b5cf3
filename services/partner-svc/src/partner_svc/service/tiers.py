"""The tier ladder: read it, replace it (a tier still held by a partner cannot go)."""

from __future__ import annotations

import structlog
from channel_common import (
    ConflictError,
    Principal,
    SQLModelSession,
    check_if_match,
    content_etag,
    refuse_partner_bound,
)

from .. import repo
from ..models import Tier
from ..schemas import TierLadder, TierRead
from .views import tier_read, to_minor

__all__ = ["get_ladder", "ladder_etag", "replace_ladder"]

log = structlog.get_logger(__name__)


def ladder_etag(ladder: list[TierRead]) -> str:
    """The ladder's ETag: over its content (the ladder has no version of its own)."""
    return content_etag(ladder)


async def get_ladder(session: SQLModelSession) -> list[TierRead]:
    """The ladder, highest tier (rank 1) first."""
    return [tier_read(tier) for tier in await repo.list_tiers(session)]


async def replace_ladder(
    session: SQLModelSession, *, ladder: TierLadder, actor: Principal, if_match: str | None
) -> list[TierRead]:
    """Replace the whole ladder; 409 when a removed tier is still held by a partner."""
    refuse_partner_bound(actor, "change the tier ladder")
    await repo.lock_partner_graph(session)
    current = {tier.key: tier for tier in await repo.list_tiers(session)}
    check_if_match(if_match, etag=ladder_etag([tier_read(t) for t in current.values()]))
    wanted = {tier.key: tier for tier in ladder.root}
    removed = sorted(set(current) - set(wanted))
    held = await repo.tier_holders(session, keys=removed)
    if held:
        named = ", ".join(f"{key} ({count} partners)" for key, count in sorted(held.items()))
        raise ConflictError(
            f"Tiers still held by partners cannot be removed: {named}.",
            extra={"held": [{"tier": k, "partners": n} for k, n in sorted(held.items())]},
        )
    await repo.delete_tiers(session, keys=removed)
    for key, tier in wanted.items():
        row = current.get(key) or Tier(key=key, name=tier.name, rank=tier.rank)
        row.name, row.rank = tier.name, tier.rank
        row.min_registered_capital_minor = to_minor(tier.admission.min_registered_capital)
        row.min_years_in_business = tier.admission.min_years_in_business
        row.min_service_staff = tier.admission.min_service_staff
        session.add(row)
    await session.flush()
    log.info("tier_ladder_replaced", tiers=sorted(wanted), removed=removed, actor=actor.subject)
    return await get_ladder(session)
