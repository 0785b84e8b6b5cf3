"""KPI definitions: create, read, change (the aggregation of a KPI in use is fixed)."""

from __future__ import annotations

from decimal import Decimal

from channel_common import (
    ConflictError,
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    check_if_match,
    decode_keyset,
    keyset_page,
    refuse_partner_bound,
    utcnow,
)

from .. import repo
from ..models import KpiDefinition
from ..scaled import to_micro
from ..schemas import KpiDefinitionCreate, KpiDefinitionRead, KpiDefinitionUpdate
from .views import definition_view

__all__ = ["create_definition", "get_definition", "list_definitions", "update_definition"]


async def get_definition(
    session: SQLModelSession, *, key: str, for_update: bool = False
) -> KpiDefinition:
    """The definition of `key`; 404 when unknown (`for_update` locks it for a change)."""
    definition = await repo.get_definition(session, key=key, for_update=for_update)
    if definition is None:
        raise NotFoundError(f"KPI {key!r} is not defined.")
    return definition


async def list_definitions(
    session: SQLModelSession, *, params: PageParams
) -> Page[KpiDefinitionRead]:
    """A page of the KPI definitions by key."""
    keyset = decode_keyset(params.cursor, str)
    rows = await repo.list_definitions(
        session, after=None if keyset is None else keyset[0], limit=params.fetch_limit
    )
    return keyset_page(rows, limit=params.limit, key=lambda row: [row.key], item=definition_view)


async def create_definition(
    session: SQLModelSession, *, data: KpiDefinitionCreate, principal: Principal
) -> KpiDefinition:
    """Define a new KPI; 409 when the key is taken."""
    refuse_partner_bound(principal, "change KPI definitions", verb="cannot")
    if await repo.get_definition(session, key=data.key) is not None:
        raise ConflictError(f"KPI {data.key!r} is already defined.")
    definition = KpiDefinition(
        key=data.key,
        name=data.name,
        unit=data.unit.value,
        aggregation=data.aggregation.value,
        higher_is_better=data.higher_is_better,
        weight_micro=to_micro(data.weight),
        min_micro=None if data.min_value is None else to_micro(data.min_value),
        max_micro=None if data.max_value is None else to_micro(data.max_value),
    )
    session.add(definition)
    await session.flush()
    return definition


async def update_definition(
    session: SQLModelSession,
    *,
    key: str,
    data: KpiDefinitionUpdate,
    if_match: str | None,
    principal: Principal,
) -> KpiDefinition:
    """Change a definition (honours If-Match); 409 when the aggregation of a KPI in use
    would change, since stored aggregates and published values assume it."""
    refuse_partner_bound(principal, "change KPI definitions", verb="cannot")
    # Locked before If-Match is checked: two writers with one ETag must not both pass.
    definition = await get_definition(session, key=key, for_update=True)
    check_if_match(if_match, version=definition.version)
    changes = data.model_dump(mode="json", exclude_unset=True)  # enums as text
    aggregation = changes.get("aggregation")
    if (
        aggregation is not None
        and aggregation != definition.aggregation
        and await repo.kpi_in_use(session, key=key)
    ):
        raise ConflictError(
            f"KPI {key!r} has observations; its aggregation cannot change "
            f"(define a new KPI instead)."
        )
    for name in ("name", "unit", "aggregation", "higher_is_better"):
        if name in changes:
            setattr(definition, name, changes[name])
    if "weight" in changes:
        definition.weight_micro = to_micro(Decimal(changes["weight"]))
    for name, column in (("min_value", "min_micro"), ("max_value", "max_micro")):
        if name in changes:
            value = changes[name]
            setattr(definition, column, None if value is None else to_micro(Decimal(value)))
    low, high = definition.min_micro, definition.max_micro
    if low is not None and high is not None and low > high:
        raise ValidationFailedError(
            "min_value must not exceed max_value.",
            errors=[{"loc": ["body", "min_value"], "msg": "greater than max_value"}],
        )
    definition.version += 1
    definition.updated_at = utcnow()
    session.add(definition)
    await session.flush()
    return definition
