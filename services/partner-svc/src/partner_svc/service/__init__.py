"""Business rules of partner-svc. Functions take the session and keyword arguments, flush at
most, and raise channel_common domain errors; the caller commits."""

from .ledger import list_history, verify_history
from .lifecycle import TRANSITIONS, change_tier, check_qualification, transition
from .partners import (
    create_partner,
    get_partner,
    get_partner_by_code,
    list_children,
    list_partners,
    update_partner,
)
from .territories import find_owner, replace_territories
from .tiers import get_ladder, ladder_etag, replace_ladder

__all__ = [
    "TRANSITIONS",
    "change_tier",
    "check_qualification",
    "create_partner",
    "find_owner",
    "get_ladder",
    "get_partner",
    "get_partner_by_code",
    "ladder_etag",
    "list_children",
    "list_history",
    "list_partners",
    "replace_ladder",
    "replace_territories",
    "transition",
    "update_partner",
    "verify_history",
]
