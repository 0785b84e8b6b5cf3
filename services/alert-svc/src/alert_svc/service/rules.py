"""Alert rules: create, read, list, patch (If-Match), delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from channel_common import (
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    check_if_match,
    decode_keyset,
    keyset_page,
    refuse_partner_bound,
    utcnow,
)

from .. import repo
from ..models import AlertRule
from ..schemas import RuleCreate, RuleRead, RuleUpdate
from .evaluating import evaluate_rule
from .lifecycle import resolve_rule_alerts
from .views import parse_condition, rule_read

__all__ = ["create_rule", "delete_rule", "get_rule", "list_rules", "update_rule"]

_WATCHED = frozenset(
    {"kpi", "granularity", "scope", "condition", "for_periods", "enabled", "labels"}
)


def _check_consistency(values: dict[str, Any]) -> None:
    """422 naming the field when the rule's parts do not fit together (its condition says)."""
    parse_condition(values["condition"]).check_rule(for_periods=values["for_periods"])


def _stored(data: RuleCreate | RuleUpdate, fields: set[str]) -> dict[str, Any]:
    dumped = data.model_dump(mode="json", include=fields)
    if "condition" in dumped:
        dumped["condition_type"] = dumped["condition"]["type"]
    return dumped


async def create_rule(session: SQLModelSession, *, data: RuleCreate, actor: Principal) -> RuleRead:
    """Create a rule; it is evaluated as KPI events arrive."""
    refuse_partner_bound(actor, "manage alert rules")
    values = _stored(data, set(RuleCreate.model_fields))
    _check_consistency(values)
    now = utcnow()
    rule = AlertRule.model_validate(values, update={"created_at": now, "updated_at": now})
    session.add(rule)
    await session.flush()
    await evaluate_rule(session, rule=rule, now=now)
    return rule_read(rule)


async def _rule(
    session: SQLModelSession, rule_id: uuid.UUID, *, for_update: bool = False
) -> AlertRule:
    # `for_update` locks the row (PostgreSQL) so that If-Match is checked against the
    # version a concurrent writer committed, not the one read before it.
    if for_update:
        rule = await session.get(AlertRule, rule_id, with_for_update=True, populate_existing=True)
    else:
        rule = await session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFoundError("Alert rule not found.")
    return rule


async def get_rule(
    session: SQLModelSession, *, rule_id: uuid.UUID, principal: Principal
) -> RuleRead:
    """One rule."""
    refuse_partner_bound(principal, "read alert rules")
    return rule_read(await _rule(session, rule_id))


async def list_rules(
    session: SQLModelSession, *, params: PageParams, principal: Principal
) -> Page[RuleRead]:
    """A page of rules, oldest first."""
    refuse_partner_bound(principal, "read alert rules")
    after = decode_keyset(params.cursor, datetime.fromisoformat, uuid.UUID)
    rows = await repo.rules_page(session, after=after, limit=params.fetch_limit)
    return keyset_page(
        rows,
        limit=params.limit,
        key=lambda row: [row.created_at.isoformat(), str(row.id)],
        item=rule_read,
    )


async def update_rule(
    session: SQLModelSession,
    *,
    rule_id: uuid.UUID,
    data: RuleUpdate,
    actor: Principal,
    if_match: str | None,
) -> RuleRead:
    """Change a rule; disabling it (or changing what it watches) resolves its open alerts."""
    refuse_partner_bound(actor, "manage alert rules")
    rule = await _rule(session, rule_id, for_update=True)
    check_if_match(if_match, version=rule.version)
    changes = {k: v for k, v in _stored(data, data.model_fields_set).items() if v is not None}
    current = rule.model_dump(mode="json")
    merged = {**current, **changes}
    _check_consistency(merged)
    changed = {k: v for k, v in changes.items() if current.get(k) != v}
    if not changed:
        return rule_read(rule)
    for name, value in changed.items():
        setattr(rule, name, value)
    rule.version += 1
    rule.updated_at = now = utcnow()
    if _WATCHED & changed.keys():
        # What the open alerts were judged by is gone: close them and judge afresh.
        await resolve_rule_alerts(session, rule=rule, now=now)
        await session.flush()
        await evaluate_rule(session, rule=rule, now=now)
    await session.flush()
    return rule_read(rule)


async def delete_rule(session: SQLModelSession, *, rule_id: uuid.UUID, actor: Principal) -> None:
    """Delete a rule; its open alerts are resolved."""
    refuse_partner_bound(actor, "manage alert rules")
    rule = await _rule(session, rule_id)
    await resolve_rule_alerts(session, rule=rule, now=utcnow())
    await session.delete(rule)
    await session.flush()
