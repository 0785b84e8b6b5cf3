"""Who may see what: a partner-bound principal (a partner portal) sees only its own alerts;
rules, silences and webhooks are for the channel team."""

from __future__ import annotations

from channel_common import ForbiddenError, Principal

__all__ = ["refuse_partner_bound"]


def refuse_partner_bound(principal: Principal, what: str) -> None:
    """403 for a partner-bound principal: `what` is for the channel team only."""
    if principal.partner_id is not None:
        raise ForbiddenError(f"A partner-bound principal may not {what}.")
