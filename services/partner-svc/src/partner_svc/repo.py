"""Every query partner-svc runs. Functions flush at most; the route class commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from channel_common import SQLModelSession
from sqlalchemy.orm import Mapped
from sqlmodel import col, select

from .models import HistoryEntry, Partner, Territory, Tier

__all__ = [
    "PartnerFilters",
    "ancestor_regions",
    "delete_tiers",
    "find_exclusive_holders",
    "find_exclusive_overlaps",
    "get_partner",
    "get_partner_by_code",
    "get_tier",
    "history_entries",
    "last_history_entry",
    "list_partners",
    "list_tiers",
    "lock_partner_graph",
    "parent_of",
    "replace_territories",
    "territories_of",
    "tier_holders",
]

# One advisory lock key (PostgreSQL) serialising checks that span partners: exclusive
# territories, parent cycles and the tier ladder.
_GRAPH_LOCK_KEY = 0x7061_7274  # "part"


@dataclass(frozen=True)
class PartnerFilters:
    """Filters of a partner list; `region` includes sub-regions, `q` is case-insensitive."""

    status: str | None = None
    tier: str | None = None
    type: str | None = None
    region: str | None = None
    parent_id: uuid.UUID | None = None
    q: str | None = None


def ancestor_regions(region: str) -> list[str]:
    """`CN-GD-SZ` → `["CN", "CN-GD"]`: the regions containing `region`, outermost first."""
    parts = region.split("-")
    return ["-".join(parts[:n]) for n in range(1, len(parts))]


def _within(column: Mapped[str], region: str) -> sa.ColumnElement[bool]:
    # Regions are alphanumeric segments, so `region` holds no LIKE wildcard.
    return sa.or_(column == region, column.like(f"{region}-%"))


def _dialect(session: SQLModelSession) -> str:
    return session.bind.dialect.name if session.bind is not None else ""


async def lock_partner_graph(session: SQLModelSession) -> None:
    """Serialise cross-partner checks until the transaction ends."""
    # On SQLite every transaction already holds the write lock (BEGIN IMMEDIATE).
    if _dialect(session) == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_GRAPH_LOCK_KEY)))


async def get_partner(
    session: SQLModelSession, *, partner_id: uuid.UUID, for_update: bool = False
) -> Partner | None:
    """One partner by id; `for_update` locks its row until the transaction ends (SQLite's
    transactions hold the whole database's write lock already)."""
    query = select(Partner).where(Partner.id == partner_id)
    if for_update:
        query = query.with_for_update(key_share=True)  # FK checks of children may pass
    return (await session.exec(query)).first()


async def get_partner_by_code(session: SQLModelSession, *, code: str) -> Partner | None:
    """One partner by its unique code."""
    return (await session.exec(select(Partner).where(Partner.code == code))).first()


async def parent_of(session: SQLModelSession, *, partner_id: uuid.UUID) -> uuid.UUID | None:
    """The parent id of a partner (None for a root or an unknown id)."""
    query = select(Partner.parent_id).where(Partner.id == partner_id)
    return (await session.exec(query)).first()


async def list_partners(
    session: SQLModelSession,
    *,
    filters: PartnerFilters,
    visible_to: uuid.UUID | None,
    after_code: str | None,
    limit: int,
) -> Sequence[Partner]:
    """Partners matching `filters`, by code after `after_code`; `visible_to` restricts the
    rows to that partner and its direct children."""
    query = select(Partner).order_by(col(Partner.code)).limit(limit)
    if visible_to is not None:
        query = query.where(
            sa.or_(col(Partner.id) == visible_to, col(Partner.parent_id) == visible_to)
        )
    if after_code is not None:
        query = query.where(Partner.code > after_code)
    if filters.status is not None:
        query = query.where(Partner.status == filters.status)
    if filters.tier is not None:
        query = query.where(Partner.tier == filters.tier)
    if filters.type is not None:
        query = query.where(Partner.type == filters.type)
    if filters.region is not None:
        query = query.where(_within(col(Partner.region), filters.region))
    if filters.parent_id is not None:
        query = query.where(Partner.parent_id == filters.parent_id)
    if filters.q:
        needle = filters.q.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(Partner.name).contains(needle, autoescape=True),
                sa.func.lower(Partner.code).contains(needle, autoescape=True),
            )
        )
    return (await session.exec(query)).all()


async def territories_of(
    session: SQLModelSession, *, partner_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Territory]]:
    """The territories of each partner, by region."""
    found: dict[uuid.UUID, list[Territory]] = {pid: [] for pid in partner_ids}
    if not partner_ids:
        return found
    query = (
        select(Territory)
        .where(col(Territory.partner_id).in_(partner_ids))
        .order_by(col(Territory.region))
    )
    for territory in (await session.exec(query)).all():
        found[territory.partner_id].append(territory)
    return found


async def replace_territories(
    session: SQLModelSession, *, partner_id: uuid.UUID, territories: Sequence[Territory]
) -> None:
    """Replace all territories of a partner."""
    await session.execute(sa.delete(Territory).where(col(Territory.partner_id) == partner_id))
    session.add_all(territories)
    await session.flush()


async def find_exclusive_overlaps(
    session: SQLModelSession, *, region: str, other_than: uuid.UUID
) -> Sequence[tuple[Territory, Partner]]:
    """Exclusive territories of other live partners equal to, containing or inside `region`."""
    query = (
        select(Territory, Partner)
        .join(Partner, col(Partner.id) == col(Territory.partner_id))
        .where(
            col(Territory.exclusive).is_(True),
            Partner.status != "terminated",
            Partner.id != other_than,
            sa.or_(
                col(Territory.region).in_([region, *ancestor_regions(region)]),
                col(Territory.region).like(f"{region}-%"),
            ),
        )
        .order_by(col(Territory.region), col(Partner.code))
    )
    return [(t, p) for t, p in (await session.exec(query)).all()]


async def find_exclusive_holders(
    session: SQLModelSession, *, region: str
) -> Sequence[tuple[Territory, Partner]]:
    """Live partners holding `region` or one of its ancestors exclusively."""
    query = (
        select(Territory, Partner)
        .join(Partner, col(Partner.id) == col(Territory.partner_id))
        .where(
            col(Territory.exclusive).is_(True),
            Partner.status != "terminated",
            col(Territory.region).in_([region, *ancestor_regions(region)]),
        )
    )
    return [(t, p) for t, p in (await session.exec(query)).all()]


async def list_tiers(session: SQLModelSession) -> Sequence[Tier]:
    """The tier ladder, highest (rank 1) first."""
    return (await session.exec(select(Tier).order_by(col(Tier.rank), col(Tier.key)))).all()


async def get_tier(session: SQLModelSession, *, key: str) -> Tier | None:
    """One tier by key."""
    return await session.get(Tier, key)


async def tier_holders(session: SQLModelSession, *, keys: Sequence[str]) -> dict[str, int]:
    """How many partners (terminated ones included) hold each of `keys`."""
    if not keys:
        return {}
    query = (
        select(Partner.tier, sa.func.count())
        .where(col(Partner.tier).in_(keys))
        .group_by(col(Partner.tier))
    )
    return {tier: int(count) for tier, count in (await session.exec(query)).all()}


async def delete_tiers(session: SQLModelSession, *, keys: Sequence[str]) -> None:
    """Remove tiers from the ladder."""
    if keys:
        await session.execute(sa.delete(Tier).where(col(Tier.key).in_(keys)))


async def last_history_entry(
    session: SQLModelSession, *, partner_id: uuid.UUID
) -> HistoryEntry | None:
    """The newest history entry of a partner."""
    query = (
        select(HistoryEntry)
        .where(HistoryEntry.partner_id == partner_id)
        .order_by(col(HistoryEntry.position).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def history_entries(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    after_position: int = 0,
    limit: int | None = None,
) -> Sequence[HistoryEntry]:
    """A partner's history entries after `after_position`, oldest first."""
    query = (
        select(HistoryEntry)
        .where(HistoryEntry.partner_id == partner_id, HistoryEntry.position > after_position)
        .order_by(col(HistoryEntry.position))
    )
    if limit is not None:
        query = query.limit(limit)
    return (await session.exec(query)).all()
