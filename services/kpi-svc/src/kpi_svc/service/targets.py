"""Targets per KPI, period and scope (partner, tier, region or all)."""

from __future__ import annotations

from typing import NamedTuple

from channel_common import (
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    check_if_match,
    decode_keyset,
    keyset_page,
    parse_period,
    refuse_partner_bound,
    utcnow,
)

from .. import repo
from ..models import Target
from ..scaled import to_micro
from ..schemas import TargetIn, TargetRead
from .queries import parse_query_period
from .views import target_view

__all__ = ["ListedTargets", "StoredTargets", "list_targets", "put_targets", "target_set_revision"]


class StoredTargets(NamedTuple):
    """The targets a PUT wrote, and the revision of the whole set it left."""

    revision: int
    targets: list[Target]


class ListedTargets(NamedTuple):
    """A page of targets, and the revision of the whole set read before it."""

    revision: int
    page: Page[TargetRead]


async def put_targets(
    session: SQLModelSession, *, items: list[TargetIn], if_match: str | None, principal: Principal
) -> StoredTargets:
    """Set the given targets (other targets stay) and bump the set's revision; 412 when
    `if_match` names another revision; 422 for an unknown KPI or partner, an invalid period,
    or the same (kpi, period, scope) twice."""
    refuse_partner_bound(principal, "change targets", verb="cannot")
    # Bumped before If-Match is checked: the bump locks the revision, so of two writers with
    # one ETag the second sees the first's revision and gets 412 (a failure rolls it back).
    revision = await repo.bump_target_revision(session)
    check_if_match(if_match, version=revision - 1)
    definitions = await repo.all_definitions(session)
    partner_ids = [item.scope.partner_id for item in items if item.scope.partner_id]
    partners = await repo.partners_by_ids(session, ids=partner_ids)
    errors: list[dict[str, object]] = []
    seen: set[tuple[str, str, str, str]] = set()
    now = utcnow()
    rows = []
    keys: list[tuple[str, str, str, str]] = []
    for index, item in enumerate(items):
        try:
            period = str(parse_period(item.period))
        except ValueError as exc:
            errors.append({"loc": ["body", index, "period"], "msg": str(exc)})
            continue
        if item.kpi not in definitions:
            errors.append({"loc": ["body", index, "kpi"], "msg": f"unknown KPI {item.kpi!r}"})
        if item.scope.partner_id is not None and item.scope.partner_id not in partners:
            errors.append({"loc": ["body", index, "scope", "partner_id"], "msg": "unknown partner"})
        key = (item.kpi, period, item.scope.kind, item.scope.value)
        if key in seen:
            errors.append({"loc": ["body", index], "msg": "the same target is listed twice"})
        seen.add(key)
        keys.append(key)
        rows.append(
            {
                "kpi": item.kpi,
                "period": period,
                "scope_kind": item.scope.kind,
                "scope_value": item.scope.value,
                "value_micro": to_micro(item.value),
                "updated_at": now,
            }
        )
    if errors:
        raise ValidationFailedError("Some targets are invalid; see errors.", errors=errors)
    await repo.upsert_targets(session, rows=rows)
    stored = {
        (t.kpi, t.period, t.scope_kind, t.scope_value): t
        for period in {key[1] for key in keys}
        for t in await repo.targets_for_period(session, period=period)
    }
    return StoredTargets(revision, [stored[key] for key in keys])


async def target_set_revision(session: SQLModelSession) -> int:
    """The revision of the target set (its ETag)."""
    return await repo.target_revision(session)


async def list_targets(
    session: SQLModelSession,
    *,
    kpi: str | None,
    period: str | None,
    principal: Principal,
    params: PageParams,
) -> ListedTargets:
    """A page of targets by (kpi, period, scope); a partner-bound principal sees no other
    partner's."""
    after = decode_keyset(params.cursor, str, str, str, str)
    # Read before the rows: a PUT landing in between leaves the tag stale (412), never ahead.
    revision = await target_set_revision(session)
    if period is not None:
        period = str(parse_query_period(period, "period"))
    rows = await repo.list_targets(
        session,
        kpi=kpi,
        period=period,
        visible_to=principal.partner_id,
        after=after,
        limit=params.fetch_limit,
    )
    return ListedTargets(
        revision,
        keyset_page(
            rows,
            limit=params.limit,
            key=lambda row: [row.kpi, row.period, row.scope_kind, row.scope_value],
            item=target_view,
        ),
    )
