"""Conversions between table rows, the calculation and the API/event models."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from channel_common import format_decimal

from ..bases import basis_type
from ..calculation import Calculation, Line, Qualifier, QualifierResult, Terms, Tier
from ..currencies import from_minor, to_minor
from ..events import StatementEvent
from ..models import Program, Statement
from ..schemas import (
    BasisRead,
    EligibilityRead,
    LineRead,
    ProgramRead,
    QualifierRead,
    QualifierResultRead,
    StatementRead,
    StatementSummary,
    TierRead,
)

__all__ = [
    "calculation_columns",
    "decimal_or_none",
    "line_json",
    "program_read",
    "statement_event",
    "statement_event_data",
    "statement_read",
    "statement_summary",
    "terms_of",
]


def decimal_or_none(value: str | None) -> Decimal | None:
    """Stored exact text back to a Decimal."""
    return None if value is None else Decimal(value)


def terms_of(program: Program) -> Terms:
    """The arithmetic a program version prescribes."""
    return Terms(
        tiers=[Tier(Decimal(t["from"]), Decimal(t["rate"])) for t in program.tiers],
        method=program.method,
        basis_type=basis_type(program.basis_type),
        currency=program.currency,
        qualifiers=[Qualifier(q["kpi"], q["op"], Decimal(q["value"])) for q in program.qualifiers],
        cap=None if program.cap_minor is None else from_minor(program.cap_minor, program.currency),
    )


def program_read(program: Program) -> ProgramRead:
    """The API view of a program version."""
    rules = program.eligibility
    money = {
        name: None if minor is None else from_minor(minor, program.currency)
        for name, minor in (("cap", program.cap_minor), ("budget", program.budget_minor))
    }
    return ProgramRead(
        id=program.id,
        version=program.version,
        name=program.name,
        currency=program.currency,
        period=program.period,
        basis=BasisRead(kpi=program.basis_kpi, type=program.basis_type),
        method=program.method,
        tiers=[TierRead(start=Decimal(t["from"]), rate=Decimal(t["rate"])) for t in program.tiers],
        eligibility=EligibilityRead(
            tiers=rules.get("tiers", []),
            types=rules.get("types", []),
            regions=rules.get("regions", []),
            partner_ids=[uuid.UUID(p) for p in rules.get("partner_ids", [])],
        ),
        qualifiers=[
            QualifierRead(kpi=q["kpi"], op=q["op"], value=Decimal(q["value"]))
            for q in program.qualifiers
        ],
        cap=money["cap"],
        budget=money["budget"],
        valid_from=program.valid_from,
        valid_to=program.valid_to,
        status=program.status,
        created_at=program.created_at,
        updated_at=program.updated_at,
    )


def line_json(line: Line) -> dict[str, Any]:
    """A line as stored (exact text)."""
    return {
        "from": str(line.start),
        "to": None if line.end is None else str(line.end),
        "rate": str(line.rate),
        "base": str(line.base),
        "amount": str(line.amount),
    }


def qualifier_json(result: QualifierResult) -> dict[str, Any]:
    """A qualifier result as stored (exact text)."""
    return {
        "kpi": result.kpi,
        "op": result.op,
        "value": str(result.value),
        "actual": None if result.actual is None else str(result.actual),
        "passed": result.passed,
    }


def calculation_columns(calc: Calculation, currency: str) -> dict[str, Any]:
    """The statement columns a calculation fills."""
    return {
        "basis_value": str(calc.basis_value),
        "prior_value": None if calc.prior_value is None else str(calc.prior_value),
        "tier_index": calc.tier_index,
        "lines": [line_json(line) for line in calc.lines],
        "qualifier_results": [qualifier_json(r) for r in calc.qualifier_results],
        "gross_minor": to_minor(calc.gross_amount, currency),
        "cap_applied": calc.cap_applied,
        "amount_minor": to_minor(calc.amount, currency),
        "reason": calc.reason,
    }


def statement_summary(statement: Statement) -> StatementSummary:
    """A statement in lists."""
    return StatementSummary(
        id=statement.id,
        program_id=statement.program_id,
        program_version=statement.program_version,
        partner_id=statement.partner_id,
        period=statement.period,
        currency=statement.currency,
        tier_index=statement.tier_index,
        amount=from_minor(statement.amount_minor, statement.currency),
        kind=statement.kind,
        status=statement.status,
        reason=statement.reason,
    )


def statement_read(statement: Statement) -> StatementRead:
    """A statement with its full breakdown."""
    return StatementRead(
        **statement_summary(statement).model_dump(),
        run_id=statement.run_id,
        basis_value=Decimal(statement.basis_value),
        prior_value=decimal_or_none(statement.prior_value),
        method=statement.method,
        lines=[LineRead.model_validate(_aliased(line)) for line in statement.lines],
        qualifier_results=[
            QualifierResultRead.model_validate(r) for r in statement.qualifier_results
        ],
        gross_amount=from_minor(statement.gross_minor, statement.currency),
        cap_applied=statement.cap_applied,
        explanation=statement.explanation,
        approved_by=statement.approved_by,
        approved_at=statement.approved_at,
        paid_at=statement.paid_at,
        payment_ref=statement.payment_ref,
        version=statement.version,
        created_at=statement.created_at,
        updated_at=statement.updated_at,
    )


def _aliased(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": line["from"],
        "end": line["to"],
        **{k: line[k] for k in ("rate", "base", "amount")},
    }


def statement_event_data(row: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a statement event from a statement row (the fields of StatementEvent)."""
    return {
        "id": str(row["id"]),
        "program_id": str(row["program_id"]),
        "program_version": row["program_version"],
        "partner_id": str(row["partner_id"]),
        "period": row["period"],
        "currency": row["currency"],
        "tier_index": row["tier_index"],
        "amount": format_decimal(from_minor(row["amount_minor"], row["currency"]), "kept"),
        "kind": row["kind"],
        "status": row["status"],
        "reason": row["reason"],
        "approved_by": row["approved_by"],
        "payment_ref": row["payment_ref"],
    }


def statement_event(statement: Statement) -> StatementEvent:
    """The summary a statement event carries."""
    return StatementEvent(
        **statement_summary(statement).model_dump(),
        approved_by=statement.approved_by,
        payment_ref=statement.payment_ref,
    )
