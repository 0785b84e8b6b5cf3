"""Partner master data: register, read, list, children, and patch (with the hierarchy rules)."""

from __future__ import annotations

import uuid
from typing import Any

from channel_common import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    check_if_match,
    cursor_str,
    decode_keyset,
    next_cursor,
    refuse_partner_bound,
    utcnow,
)
from sqlalchemy.exc import IntegrityError

from .. import repo
from ..events import PARTNER_REGISTERED, PARTNER_UPDATED
from ..models import Partner
from ..repo import PartnerFilters
from ..schemas import Contact, PartnerCreate, PartnerRead, PartnerUpdate, Qualification
from .access import can_see, visible_partner
from .changes import announce, bump
from .hierarchy import check_parent
from .views import as_json, contact_of, partner_read, partner_reads, qualification_of, to_minor

__all__ = [
    "create_partner",
    "get_partner",
    "get_partner_by_code",
    "list_children",
    "list_partners",
    "refuse_terminated",
    "update_partner",
]

_CONTACT_ONLY = frozenset({"contact", "reason"})


def refuse_terminated(partner: Partner) -> None:
    """409: a terminated partner is final and changes no more."""
    if partner.status == "terminated":
        raise ConflictError(f"Partner {partner.code} is terminated; it cannot change any more.")


async def create_partner(
    session: SQLModelSession, *, data: PartnerCreate, actor: Principal
) -> PartnerRead:
    """Register a partner as `prospect` (in the lowest tier unless one is named)."""
    refuse_partner_bound(actor, "register partners")
    existing = await repo.get_partner_by_code(session, code=data.code)
    if existing is not None:
        raise _code_taken(data.code, existing.id)
    tier = await _tier_for_new_partner(session, data.tier)
    if data.parent_id is not None:
        await check_parent(session, partner_id=None, parent_id=data.parent_id)
    now = utcnow()
    partner = Partner(
        code=data.code,
        name=data.name,
        type=data.type,
        tier=tier,
        region=data.region,
        parent_id=data.parent_id,
        status="prospect",
        attributes=dict(data.attributes),
        created_at=now,
        updated_at=now,
    )
    _set_contact(partner, data.contact)
    _set_qualification(partner, data.qualification)
    session.add(partner)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent change won the race
        raise ConflictError(
            f"Partner {data.code} conflicts with a concurrent change: its code was taken, "
            "or its tier or parent was removed. Retry."
        ) from exc
    return await announce(
        session,
        partner=partner,
        subject=PARTNER_REGISTERED,
        action="created",
        actor=actor,
        reason=data.reason,
        before=None,
    )


def _code_taken(code: str, existing: uuid.UUID) -> ConflictError:
    return ConflictError(
        f"A partner with code {code!r} exists already.", extra={"existing_id": str(existing)}
    )


async def _tier_for_new_partner(session: SQLModelSession, requested: str | None) -> str:
    if requested is None:
        ladder = await repo.list_tiers(session)
        return ladder[-1].key
    if await repo.get_tier(session, key=requested) is None:
        raise ValidationFailedError(
            f"There is no tier {requested!r}.",
            errors=[{"loc": ["body", "tier"], "msg": "not a tier of the ladder"}],
        )
    return requested


async def get_partner(
    session: SQLModelSession, *, partner_id: uuid.UUID, principal: Principal
) -> PartnerRead:
    """One partner (404 when unknown or not visible to `principal`)."""
    partner = await visible_partner(session, partner_id=partner_id, principal=principal)
    return await partner_read(session, partner)


async def get_partner_by_code(
    session: SQLModelSession, *, code: str, principal: Principal
) -> PartnerRead:
    """One partner by code (404 when unknown or not visible to `principal`)."""
    partner = await repo.get_partner_by_code(session, code=code)
    if partner is None or not can_see(principal, partner):
        raise NotFoundError("Partner not found.")
    return await partner_read(session, partner)


async def list_partners(
    session: SQLModelSession, *, filters: PartnerFilters, params: PageParams, principal: Principal
) -> Page[PartnerRead]:
    """A page of partners by code; a partner-bound principal sees its own rows only (and
    filtering by a parent it cannot see is 404, as reading that parent would be)."""
    if principal.partner_id is not None and filters.parent_id is not None:
        await visible_partner(session, partner_id=filters.parent_id, principal=principal)
    (after,) = decode_keyset(params.cursor, cursor_str) or (None,)
    rows = await repo.list_partners(
        session,
        filters=filters,
        visible_to=principal.partner_id,
        after_code=after,
        limit=params.fetch_limit,
    )
    return Page[PartnerRead](
        items=await partner_reads(session, rows[: params.limit]),
        next_cursor=next_cursor(rows, limit=params.limit, key=lambda row: [row.code]),
    )


async def list_children(
    session: SQLModelSession, *, partner_id: uuid.UUID, params: PageParams, principal: Principal
) -> Page[PartnerRead]:
    """A page of the partner's direct children (only those visible to `principal`)."""
    await visible_partner(session, partner_id=partner_id, principal=principal)
    filters = PartnerFilters(parent_id=partner_id)
    return await list_partners(session, filters=filters, params=params, principal=principal)


async def update_partner(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    data: PartnerUpdate,
    actor: Principal,
    if_match: str | None,
) -> PartnerRead:
    """Change master data; a partner-bound principal may change its own contact data only."""
    partner = await visible_partner(
        session, partner_id=partner_id, principal=actor, for_update=True
    )
    if actor.partner_id is not None:
        others = sorted(data.model_fields_set - _CONTACT_ONLY)
        if partner.id != actor.partner_id or others:
            raise ForbiddenError("A partner-bound principal may change its own contact data only.")
    check_if_match(if_match, version=partner.version)
    refuse_terminated(partner)
    before, after = await _apply_update(session, partner, data)
    if not after:
        return await partner_read(session, partner)
    bump(partner)
    return await announce(
        session,
        partner=partner,
        subject=PARTNER_UPDATED,
        action="updated",
        actor=actor,
        reason=data.reason,
        before=before,
        after=after,
    )


async def _apply_update(
    session: SQLModelSession, partner: Partner, data: PartnerUpdate
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply the fields that differ; their old and new values (JSON-ready)."""
    current: dict[str, Any] = {
        "name": partner.name,
        "region": partner.region,
        "parent_id": None if partner.parent_id is None else str(partner.parent_id),
        "contact": as_json(contact_of(partner)),
        "qualification": as_json(qualification_of(partner)),
        "attributes": dict(partner.attributes),
    }
    wanted: dict[str, Any] = {}
    if "name" in data.model_fields_set:
        wanted["name"] = data.name
    if "region" in data.model_fields_set:
        wanted["region"] = data.region
    if "parent_id" in data.model_fields_set:
        wanted["parent_id"] = None if data.parent_id is None else str(data.parent_id)
    if "contact" in data.model_fields_set:
        contact = Contact() if data.contact is None else _merged(contact_of(partner), data.contact)
        wanted["contact"] = as_json(contact)
    if "qualification" in data.model_fields_set:
        figures = data.qualification
        merged = Qualification() if figures is None else _merged(qualification_of(partner), figures)
        wanted["qualification"] = as_json(merged)
    if "attributes" in data.model_fields_set:
        wanted["attributes"] = dict(data.attributes or {})
    changed = [name for name, value in wanted.items() if current[name] != value]
    if "parent_id" in changed and data.parent_id is not None:
        await check_parent(session, partner_id=partner.id, parent_id=data.parent_id)
    for name in changed:
        _assign(partner, name, data, wanted[name])
    return {n: current[n] for n in changed}, {n: wanted[n] for n in changed}


def _merged(current: Contact | Qualification, patch: Contact | Qualification) -> Any:
    return current.model_copy(update=patch.model_dump(exclude_unset=True))


def _assign(partner: Partner, name: str, data: PartnerUpdate, value: Any) -> None:
    if name == "contact":
        _set_contact(partner, Contact.model_validate(value))
    elif name == "qualification":
        _set_qualification(partner, Qualification.model_validate(value))
    elif name == "parent_id":
        partner.parent_id = data.parent_id
    elif name == "attributes":
        partner.attributes = dict(value)
    else:
        setattr(partner, name, value)


def _set_contact(partner: Partner, contact: Contact) -> None:
    partner.contact_name = contact.name
    partner.contact_email = contact.email
    partner.contact_phone = contact.phone


def _set_qualification(partner: Partner, figures: Qualification) -> None:
    capital = figures.registered_capital
    partner.registered_capital_minor = None if capital is None else to_minor(capital)
    partner.years_in_business = figures.years_in_business
    partner.service_staff = figures.service_staff
