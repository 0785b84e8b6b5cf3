"""What a run does to one partner's statements: create, recompute a draft in place, or
carry the difference to approved/paid statements in an `adjustment`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..currencies import from_minor
from .explain import explain_adjustment

__all__ = ["Changes", "Existing", "reconcile"]

_SETTLED = ("approved", "paid")


@dataclass(frozen=True)
class Existing:
    """The fields of a stored statement a run needs."""

    id: uuid.UUID
    kind: str
    status: str
    amount_minor: int
    version: int


@dataclass
class Changes:
    """Rows to insert and updates by primary key, collected over a whole run."""

    now: datetime
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    total_minor: int = 0

    def insert(self, partner_id: uuid.UUID, kind: str, columns: dict[str, Any]) -> None:
        """A new draft statement."""
        self.inserts.append(
            {
                **columns,
                "id": uuid.uuid4(),
                "partner_id": partner_id,
                "kind": kind,
                "status": "draft",
                "approved_by": None,
                "approved_at": None,
                "paid_at": None,
                "payment_ref": None,
                "version": 1,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )

    def update(self, statement: Existing, columns: dict[str, Any]) -> None:
        """Change a stored statement (its version grows)."""
        self.updates.append(
            {
                **columns,
                "id": statement.id,
                "version": statement.version + 1,
                "updated_at": self.now,
            }
        )

    def withdraw(self, statement: Existing, run_id: uuid.UUID) -> None:
        """Void a draft nobody needs any more."""
        self.update(statement, {"status": "void", "run_id": run_id})


def reconcile(
    changes: Changes, statements: list[Existing], partner_id: uuid.UUID, columns: dict[str, Any]
) -> None:
    """Bring one partner's statements in line with the recomputed `columns`."""
    amount = int(columns["amount_minor"])
    original = next((s for s in statements if s.kind == "original"), None)
    if original is None:
        changes.insert(partner_id, "original", columns)
        changes.total_minor += amount
        return
    if original.status == "draft":
        changes.update(original, columns)
        changes.total_minor += amount
        return
    settled = sum(s.amount_minor for s in statements if s.status in _SETTLED)
    difference = amount - settled
    pending = next((s for s in statements if s.kind == "adjustment" and s.status == "draft"), None)
    if difference == 0:
        if pending is not None:
            changes.withdraw(pending, columns["run_id"])
        return
    currency = columns["currency"]
    why = explain_adjustment(
        recomputed=from_minor(amount, currency),
        settled=from_minor(settled, currency),
        currency=currency,
    )
    adjustment = {
        **columns,
        "amount_minor": difference,
        "explanation": f"{why} Recomputed: {columns['explanation']}",
    }
    if pending is not None:
        changes.update(pending, adjustment)
    else:
        changes.insert(partner_id, "adjustment", adjustment)
    changes.total_minor += difference
