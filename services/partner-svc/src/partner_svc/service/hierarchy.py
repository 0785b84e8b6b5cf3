"""The partner hierarchy: a parent must exist, be live, and never be the partner itself or
one of its descendants."""

from __future__ import annotations

import uuid

from channel_common import ConflictError, SQLModelSession, ValidationFailedError

from .. import repo

__all__ = ["check_parent"]


async def check_parent(
    session: SQLModelSession, *, partner_id: uuid.UUID | None, parent_id: uuid.UUID
) -> None:
    """The parent exists (422), is live (409) and is not the partner or below it (409)."""
    parent = await repo.get_partner(session, partner_id=parent_id)
    if parent is None:
        raise ValidationFailedError(
            "The parent partner does not exist.",
            errors=[{"loc": ["body", "parent_id"], "msg": "no such partner"}],
        )
    if parent.status == "terminated":
        raise ConflictError(f"The parent partner {parent.code} is terminated.")
    if partner_id is None:
        return
    await repo.lock_partner_graph(session)
    chain: list[uuid.UUID] = []
    ancestor: uuid.UUID | None = parent_id
    while ancestor is not None and ancestor not in chain:
        chain.append(ancestor)
        if ancestor == partner_id:
            raise ConflictError(
                "The parent would create a cycle: the partner would be its own ancestor.",
                extra={"cycle": [str(p) for p in chain]},
            )
        ancestor = await repo.parent_of(session, partner_id=ancestor)
