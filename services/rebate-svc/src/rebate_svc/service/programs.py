"""Rebate programs: create, read, list, replace (a new version each time), simulate."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

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
from ..bases import BASES
from ..calculation import calculate
from ..currencies import CURRENCIES, quantum, to_minor
from ..models import Program
from ..schemas import (
    LineRead,
    NextTierRead,
    ProgramCreate,
    ProgramRead,
    QualifierResultRead,
    SimulationRequest,
    SimulationResult,
)
from .accruals import accrue_program
from .views import program_read, terms_of

__all__ = [
    "create_program",
    "get_program",
    "list_programs",
    "load_program",
    "retire_program",
    "simulate",
    "update_program",
]

_LOCK_ATTEMPTS = 5  # concurrent new versions a writer may see before giving up


def _validate(data: ProgramCreate, volume_kpis: tuple[str, ...]) -> None:
    errors: list[dict[str, Any]] = []
    if data.currency not in CURRENCIES:
        errors.append({"loc": ["body", "currency"], "msg": "not a supported ISO 4217 code"})
    for i, tier in enumerate(data.tiers):
        if i and tier.start <= data.tiers[i - 1].start:
            errors.append(
                {"loc": ["body", "tiers", i, "from"], "msg": "must be above the tier before"}
            )
        if not 0 <= tier.rate <= 1:
            errors.append({"loc": ["body", "tiers", i, "rate"], "msg": "must be between 0 and 1"})
    if data.valid_to is not None and data.valid_to < data.valid_from:
        errors.append({"loc": ["body", "valid_to"], "msg": "must not be before valid_from"})
    if BASES[data.basis.type].needs_sum_kpi and data.basis.kpi not in volume_kpis:
        sums = ", ".join(volume_kpis)
        errors.append(
            {
                "loc": ["body", "basis", "kpi"],
                "msg": f"a {data.basis.type} basis needs a sum KPI: one of {sums}",
            }
        )
    for name in ("cap", "budget"):
        value = getattr(data, name)
        if (
            value is not None
            and data.currency in CURRENCIES
            and value != value.quantize(quantum(data.currency))
        ):
            errors.append({"loc": ["body", name], "msg": "more decimals than the currency has"})
    if errors:
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) for e in errors)
        raise ValidationFailedError(f"The program is invalid: {fields}.", errors=errors)


def _columns(data: ProgramCreate) -> dict[str, Any]:
    def minor(value: Any) -> int | None:
        return None if value is None else to_minor(value, data.currency)

    return {
        "name": data.name,
        "currency": data.currency,
        "period": data.period,
        "basis_kpi": data.basis.kpi,
        "basis_type": data.basis.type,
        "method": data.method,
        "tiers": [{"from": str(t.start), "rate": str(t.rate)} for t in data.tiers],
        "eligibility": {
            "tiers": list(data.eligibility.tiers),
            "types": list(data.eligibility.types),
            "regions": list(data.eligibility.regions),
            "partner_ids": [str(p) for p in data.eligibility.partner_ids],
        },
        "qualifiers": [{"kpi": q.kpi, "op": q.op, "value": str(q.value)} for q in data.qualifiers],
        "cap_minor": minor(data.cap),
        "budget_minor": minor(data.budget),
        "valid_from": data.valid_from,
        "valid_to": data.valid_to,
        "status": data.status,
    }


async def create_program(
    session: SQLModelSession,
    *,
    data: ProgramCreate,
    actor: Principal,
    volume_kpis: tuple[str, ...],
    today: date,
    event_chunk: int = 500,
) -> ProgramRead:
    """Create a program at version 1 (accrued at once from the figures already stored)."""
    refuse_partner_bound(actor, "change rebate programs", verb="cannot")
    _validate(data, volume_kpis)
    now = utcnow()
    program = Program(
        id=uuid.uuid4(), version=1, current=True, created_at=now, updated_at=now, **_columns(data)
    )
    session.add(program)
    await session.flush()
    await accrue_program(
        session, program=program, today=today, volume_kpis=volume_kpis, event_chunk=event_chunk
    )
    return program_read(program)


async def load_program(
    session: SQLModelSession, *, program_id: uuid.UUID, version: int | None = None
) -> Program:
    """A program's current version (or `version`); 404 when unknown."""
    program = await repo.get_program(session, program_id=program_id, version=version)
    if program is None:
        raise NotFoundError("Rebate program not found.")
    return program


async def get_program(
    session: SQLModelSession, *, program_id: uuid.UUID, version: int | None = None
) -> ProgramRead:
    """A program at its current version, or at `version`."""
    return program_read(await load_program(session, program_id=program_id, version=version))


async def list_programs(
    session: SQLModelSession, *, status: str | None, params: PageParams
) -> Page[ProgramRead]:
    """A page of programs (current versions) by id."""
    (after,) = decode_keyset(params.cursor, uuid.UUID) or (None,)
    rows = await repo.list_programs(session, status=status, after=after, limit=params.fetch_limit)
    return keyset_page(rows, limit=params.limit, key=lambda row: [str(row.id)], item=program_read)


async def _lock_current(session: SQLModelSession, *, program_id: uuid.UUID) -> Program:
    """The current version, locked for a change; 404 when the program does not exist.

    On PostgreSQL a writer that waited for the lock finds the row it waited on no longer
    current (the winner made a new version): a second statement sees the new current version,
    so If-Match then answers 412 rather than 404."""
    for _ in range(_LOCK_ATTEMPTS):
        current = await repo.get_program(session, program_id=program_id, for_update=True)
        if current is not None:
            return current
        if await repo.get_program(session, program_id=program_id, version=1) is None:
            break
    raise NotFoundError("Rebate program not found.")


async def update_program(
    session: SQLModelSession,
    *,
    program_id: uuid.UUID,
    data: ProgramCreate,
    actor: Principal,
    if_match: str | None,
    volume_kpis: tuple[str, ...],
    today: date,
    event_chunk: int = 500,
) -> ProgramRead:
    """Replace a program: version n+1 becomes current, version n stays for its statements;
    its accruals are recomputed under the new terms."""
    refuse_partner_bound(actor, "change rebate programs", verb="cannot")
    current = await _lock_current(session, program_id=program_id)
    check_if_match(if_match, version=current.version)
    if current.status == "retired" and data.status != "retired":
        raise ConflictError("A retired program is final; create a new program instead.")
    _validate(data, volume_kpis)
    current.current = False
    session.add(current)
    await session.flush()
    program = Program(
        id=current.id,
        version=current.version + 1,
        current=True,
        created_at=current.created_at,
        updated_at=utcnow(),
        **_columns(data),
    )
    session.add(program)
    await session.flush()
    await accrue_program(
        session, program=program, today=today, volume_kpis=volume_kpis, event_chunk=event_chunk
    )
    return program_read(program)


async def retire_program(
    session: SQLModelSession, *, program_id: uuid.UUID, actor: Principal, if_match: str | None
) -> ProgramRead:
    """Retire a program: a new version with status `retired` (no more accruals)."""
    refuse_partner_bound(actor, "change rebate programs", verb="cannot")
    current = await _lock_current(session, program_id=program_id)
    check_if_match(if_match, version=current.version)
    if current.status == "retired":
        return program_read(current)
    current.current = False
    session.add(current)
    await session.flush()
    columns = {k: getattr(current, k) for k in _columns_names()}
    program = Program(
        **{**columns, "status": "retired"},
        id=current.id,
        version=current.version + 1,
        current=True,
        created_at=current.created_at,
        updated_at=utcnow(),
    )
    session.add(program)
    await session.flush()
    return program_read(program)


def _columns_names() -> tuple[str, ...]:
    return (
        "name", "currency", "period", "basis_kpi", "basis_type", "method", "tiers",
        "eligibility", "qualifiers", "cap_minor", "budget_minor", "valid_from", "valid_to",
        "status",
    )  # fmt: skip


async def simulate(
    session: SQLModelSession, *, program_id: uuid.UUID, data: SimulationRequest
) -> SimulationResult:
    """What the program's current version would pay on a given basis (stateless)."""
    program = await load_program(session, program_id=program_id)
    terms = terms_of(program)
    if data.kpi_values is None:  # no figures given: the arithmetic alone
        terms = replace(terms, qualifiers=())
    calc = calculate(
        terms,
        basis_value=data.basis_value,
        prior_value=data.prior_value,
        kpi_values=data.kpi_values,
    )
    nxt = calc.next_tier
    return SimulationResult(
        program_id=program.id,
        program_version=program.version,
        currency=program.currency,
        basis_value=calc.basis_value,
        prior_value=calc.prior_value,
        growth=calc.growth,
        tier_index=calc.tier_index,
        lines=[
            LineRead(start=x.start, end=x.end, rate=x.rate, base=x.base, amount=x.amount)
            for x in calc.lines
        ],
        qualifier_results=[
            QualifierResultRead(kpi=r.kpi, op=r.op, value=r.value, actual=r.actual, passed=r.passed)
            for r in calc.qualifier_results
        ],
        gross_amount=calc.gross_amount,
        cap_applied=calc.cap_applied,
        amount=calc.amount,
        reason=calc.reason,
        next_tier=None
        if nxt is None
        else NextTierRead(
            start=nxt.start, distance=nxt.distance, amount_at_next=nxt.amount_at_next
        ),
    )
