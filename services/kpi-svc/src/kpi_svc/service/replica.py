"""The partner replica: snapshots from `partner.*` events, the highest version wins."""

from __future__ import annotations

import json

from channel_common import SQLModelSession, utcnow

from .. import repo
from ..consumed import PartnerSnapshot

__all__ = ["apply_partner_snapshot"]


async def apply_partner_snapshot(session: SQLModelSession, *, snapshot: PartnerSnapshot) -> None:
    """Keep `snapshot` unless a snapshot of the same or a higher version is stored (events
    can arrive late or twice; an older one changes nothing)."""
    territories = [t.model_dump() for t in snapshot.territories]
    await repo.upsert_partner(
        session,
        values={
            "id": snapshot.id,
            "code": snapshot.code,
            "tier": snapshot.tier,
            "type": snapshot.type,
            "region": snapshot.region,
            "status": snapshot.status,
            "territories": json.dumps(territories, separators=(",", ":")),
            "version": snapshot.version,
            "updated_at": utcnow(),
        },
    )
