"""Raw observations as stored, by date."""

from __future__ import annotations

import uuid
from datetime import date

from channel_common import (
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    bound_partner_filter,
    decode_keyset,
    keyset_page,
)

from .. import repo
from ..schemas import ObservationRead
from .views import observation_view

__all__ = ["list_observations"]


async def list_observations(
    session: SQLModelSession,
    *,
    principal: Principal,
    partner_id: uuid.UUID | None,
    kpi: str | None,
    first: date | None,
    last: date | None,
    source: str | None,
    batch_id: uuid.UUID | None,
    params: PageParams,
) -> Page[ObservationRead]:
    """A page of raw observations by date, filtered; a partner-bound principal sees only its
    own."""
    rows = await repo.list_observations(
        session,
        partner_id=bound_partner_filter(principal, partner_id),
        kpi=kpi,
        first=first,
        last=last,
        source=source,
        batch_id=batch_id,
        after=decode_keyset(params.cursor, date.fromisoformat, uuid.UUID),
        limit=params.fetch_limit,
    )
    return keyset_page(
        rows,
        limit=params.limit,
        key=lambda row: [row.occurred_on.isoformat(), str(row.id)],
        item=observation_view,
    )
