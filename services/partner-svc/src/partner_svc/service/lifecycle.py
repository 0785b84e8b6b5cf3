"""The lifecycle graph, tier changes and the admission criteria that guard both."""

from __future__ import annotations

import uuid
from decimal import Decimal

from channel_common import (
    ConflictError,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    check_if_match,
    refuse_partner_bound,
)

from .. import repo
from ..events import PARTNER_STATUS_CHANGED, PARTNER_TIER_CHANGED
from ..models import Partner, Tier
from ..schemas import (
    PartnerRead,
    QualificationCheck,
    QualificationReport,
    TierChangeRequest,
    TransitionRequest,
)
from .access import visible_partner
from .changes import announce, bump
from .partners import refuse_terminated
from .views import as_json, from_minor

__all__ = ["TRANSITIONS", "change_tier", "check_qualification", "evaluate", "transition"]

# prospect → onboarding → active ⇄ suspended; any live state → terminated (final).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "prospect": ("onboarding", "terminated"),
    "onboarding": ("active", "terminated"),
    "active": ("suspended", "terminated"),
    "suspended": ("active", "terminated"),
    "terminated": (),
}


def _check(
    criterion: str, required: Decimal | int, actual: Decimal | int | None
) -> QualificationCheck:
    passed = required <= 0 or (actual is not None and actual >= required)
    return QualificationCheck.model_validate(
        {"criterion": criterion, "required": required, "actual": actual, "passed": passed}
    )


def evaluate(partner: Partner, tier: Tier) -> QualificationReport:
    """The partner's qualification against `tier`'s admission criteria (unknown = not met)."""
    capital = partner.registered_capital_minor
    checks = [
        _check(
            "registered_capital",
            from_minor(tier.min_registered_capital_minor),
            None if capital is None else from_minor(capital),
        ),
        _check("years_in_business", tier.min_years_in_business, partner.years_in_business),
        _check("service_staff", tier.min_service_staff, partner.service_staff),
    ]
    return QualificationReport(tier=tier.key, eligible=all(c.passed for c in checks), checks=checks)


def _require_admission(partner: Partner, tier: Tier, move: str) -> None:
    report = evaluate(partner, tier)
    if report.eligible:
        return
    failed = ", ".join(c.criterion for c in report.checks if not c.passed)
    raise ConflictError(
        f"Partner {partner.code} cannot {move}: it does not meet the admission criteria of "
        f"tier {tier.key} ({failed}).",
        extra={"tier": tier.key, "checks": as_json(report.checks)},
    )


async def _tier(session: SQLModelSession, key: str, where: str) -> Tier:
    tier = await repo.get_tier(session, key=key)
    if tier is None:
        raise ValidationFailedError(
            f"There is no tier {key!r}.",
            errors=[{"loc": [where, "tier"], "msg": "not a tier of the ladder"}],
        )
    return tier


async def transition(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    data: TransitionRequest,
    actor: Principal,
    if_match: str | None,
) -> PartnerRead:
    """Move the partner along the lifecycle graph; activation checks the tier's criteria."""
    partner = await visible_partner(
        session, partner_id=partner_id, principal=actor, for_update=True
    )
    refuse_partner_bound(actor, "move partners through the lifecycle")
    check_if_match(if_match, version=partner.version)
    allowed = TRANSITIONS[partner.status]
    if data.to not in allowed:
        options = ", ".join(allowed) if allowed else "none (terminated is final)"
        raise ConflictError(
            f"A partner in status {partner.status} cannot move to {data.to}; allowed: {options}.",
            extra={"current": partner.status, "allowed": list(allowed)},
        )
    if data.to == "active":
        _require_admission(partner, await _tier(session, partner.tier, "body"), "become active")
    previous = partner.status
    partner.status = data.to
    bump(partner)
    return await announce(
        session,
        partner=partner,
        subject=PARTNER_STATUS_CHANGED,
        action="transitioned",
        actor=actor,
        reason=data.reason,
        before={"status": previous},
        after={"status": data.to},
    )


async def change_tier(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    data: TierChangeRequest,
    actor: Principal,
    if_match: str | None,
) -> PartnerRead:
    """Move the partner to another tier; an active partner must meet its criteria."""
    partner = await visible_partner(
        session, partner_id=partner_id, principal=actor, for_update=True
    )
    refuse_partner_bound(actor, "change tiers")
    check_if_match(if_match, version=partner.version)
    refuse_terminated(partner)
    tier = await _tier(session, data.tier, "body")
    if tier.key == partner.tier:
        raise ConflictError(f"Partner {partner.code} is in tier {tier.key} already.")
    if partner.status == "active":
        _require_admission(partner, tier, f"move to tier {tier.key}")
    previous = partner.tier
    partner.tier = tier.key
    bump(partner)
    return await announce(
        session,
        partner=partner,
        subject=PARTNER_TIER_CHANGED,
        action="tier_changed",
        actor=actor,
        reason=data.reason,
        before={"tier": previous},
        after={"tier": tier.key},
    )


async def check_qualification(
    session: SQLModelSession,
    *,
    partner_id: uuid.UUID,
    principal: Principal,
    tier_key: str | None,
) -> QualificationReport:
    """The partner against its own tier's criteria, or against `tier_key`'s."""
    partner = await visible_partner(session, partner_id=partner_id, principal=principal)
    tier = await _tier(session, tier_key or partner.tier, "query" if tier_key else "body")
    return evaluate(partner, tier)
