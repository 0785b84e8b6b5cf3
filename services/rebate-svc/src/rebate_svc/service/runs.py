"""Rebate runs: compute every eligible partner's statement for a program period.

A run is computed synchronously inside the POST (one transaction, so a run either exists with
all its statements or not at all) and answered with 202 and status `completed`. Draft
statements are recomputed in place; approved or paid ones never change — an `adjustment`
statement carries the difference. Statements and their events are written in bulk."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from channel_common import (
    Granularity,
    NotFoundError,
    Period,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    add_events,
    parse_period,
    refuse_partner_bound,
    utcnow,
)

from .. import repo
from ..bases import BasisType
from ..calculation import Calculation, calculate
from ..currencies import from_minor
from ..events import SOURCE, STATEMENT_CREATED
from ..metrics import RUN_DURATION, STATEMENTS_CREATED
from ..models import Program, Run, Statement
from ..schemas import RunCreate, RunRead
from .explain import explain
from .figures import eligible, gather_figures
from .reconcile import Changes, Existing, reconcile
from .views import calculation_columns, statement_event_data, statement_summary, terms_of

__all__ = ["create_run", "get_run"]

log = structlog.get_logger(__name__)


def _period_of(program: Program, value: str) -> Period:
    try:
        period = parse_period(value, Granularity(program.period))
    except ValueError as exc:
        raise ValidationFailedError(
            f"{value!r} is not a {program.period} period.",
            errors=[{"loc": ["body", "period"], "msg": f"expected a {program.period} period"}],
        ) from exc
    if period.end < program.valid_from or (
        program.valid_to is not None and period.start > program.valid_to
    ):
        raise ValidationFailedError(
            f"The program is not valid in {value}.",
            errors=[{"loc": ["body", "period"], "msg": "outside the program's validity"}],
        )
    return period


async def create_run(
    session: SQLModelSession, *, data: RunCreate, actor: Principal, volume_kpis: tuple[str, ...]
) -> Run:
    """Compute (or recompute) the program's statements for the period."""
    refuse_partner_bound(actor, "start rebate runs", verb="cannot")
    started = time.perf_counter()
    # Locking the program's row serialises runs of one program (no duplicate originals).
    program = await repo.get_program(session, program_id=data.program_id, for_update=True)
    if program is None:
        raise NotFoundError("Rebate program not found.")
    period = _period_of(program, data.period)
    now = utcnow()
    run = Run(
        program_id=program.id,
        program_version=program.version,
        period=str(period),
        currency=program.currency,
        status="completed",
        created_by=actor.subject,
        created_at=now,
        completed_at=now,
    )
    session.add(run)
    rules = program.eligibility
    candidates = await repo.partner_candidates(
        session, tiers=rules.get("tiers", []), types=rules.get("types", [])
    )
    partner_ids = [p.id for p in candidates if eligible(program, p)]
    figures = await gather_figures(
        session, program=program, period=period, partner_ids=partner_ids, volume_kpis=volume_kpis
    )
    existing: dict[uuid.UUID, list[Existing]] = {}
    for row in await repo.statement_states(session, program_id=program.id, period=str(period)):
        if row.status != "void":
            existing.setdefault(row.partner_id, []).append(
                Existing(row.id, row.kind, row.status, row.amount_minor, row.version)
            )
    terms = terms_of(program)
    changes = Changes(now=now)
    fixed = _fixed_columns(program, run)
    for partner_id, figure in figures.items():
        calc = calculate(
            terms,
            basis_value=figure.basis,
            prior_value=figure.prior,
            kpi_values=figure.kpi_values,
            with_next_tier=False,
        )
        columns = _columns(fixed, terms.basis_type, program.basis_kpi, calc)
        reconcile(changes, existing.pop(partner_id, []), partner_id, columns)
    for leftovers in existing.values():  # no longer eligible: their drafts are withdrawn
        for statement in leftovers:
            if statement.status == "draft":
                changes.withdraw(statement, run.id)
    run.total_minor = changes.total_minor
    await session.flush()
    await repo.insert_rows(session, model=Statement, rows=changes.inserts)
    await repo.update_statements(session, rows=changes.updates)
    await add_events(
        session,
        event_type=STATEMENT_CREATED,
        source=SOURCE,
        events=((str(row["id"]), statement_event_data(row)) for row in changes.inserts),
    )
    for row in changes.inserts:
        STATEMENTS_CREATED.labels(row["kind"]).inc()
    RUN_DURATION.observe(time.perf_counter() - started)
    log.info(
        "rebate_run_completed",
        run_id=str(run.id),
        program_id=str(program.id),
        period=run.period,
        partners=len(figures),
        created=len(changes.inserts),
        updated=len(changes.updates),
        total_minor=changes.total_minor,
    )
    return run


def _fixed_columns(program: Program, run: Run) -> dict[str, Any]:
    """The columns every statement of the run shares."""
    return {
        "run_id": run.id,
        "program_id": program.id,
        "program_version": program.version,
        "period": run.period,
        "currency": program.currency,
        "method": program.method,
    }


def _columns(
    fixed: dict[str, Any], basis_type: BasisType, kpi: str, calc: Calculation
) -> dict[str, Any]:
    currency = fixed["currency"]
    text = explain(calc, period=fixed["period"], kpi=kpi, basis_type=basis_type, currency=currency)
    return {**fixed, "explanation": text, **calculation_columns(calc, currency)}


async def get_run(session: SQLModelSession, *, run_id: uuid.UUID, principal: Principal) -> RunRead:
    """A run with the statements it set (a partner portal sees only its own)."""
    run = await repo.get_run(session, run_id=run_id)
    if run is None:
        raise NotFoundError("Rebate run not found.")
    statements: Sequence[Statement] = await repo.run_statements(
        session, run_id=run.id, partner_id=principal.partner_id
    )
    total = sum(s.amount_minor for s in statements if s.status != "void")
    return RunRead(
        id=run.id,
        program_id=run.program_id,
        program_version=run.program_version,
        period=run.period,
        currency=run.currency,
        status=run.status,
        statements=[statement_summary(s) for s in statements],
        total_amount=from_minor(total, run.currency),
        created_at=run.created_at,
        completed_at=run.completed_at,
    )
