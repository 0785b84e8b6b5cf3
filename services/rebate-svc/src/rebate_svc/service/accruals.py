"""Live accruals: each partner's standing in the open period of every active program,
refreshed from KPI events; tier crossings are announced once each."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from channel_common import (
    Granularity,
    Page,
    PageParams,
    Period,
    Principal,
    SQLModelSession,
    add_event,
    bound_partner_filter,
    decode_keyset,
    keyset_page,
    period_of,
    utcnow,
)

from .. import repo
from ..bases import BASES, basis_of
from ..calculation import Calculation, calculate
from ..currencies import from_minor, to_minor
from ..events import (
    ACCRUAL_UPDATED,
    SOURCE,
    TIER_REACHED,
    AccrualEntry,
    AccrualUpdated,
    TierReached,
)
from ..metrics import ACCRUALS_UPDATED, AMOUNT_ACCRUED, TIERS_REACHED
from ..models import Accrual, Program
from ..schemas import AccrualRead
from .figures import Figures, eligible, gather_figures, program_kpis
from .views import decimal_or_none, terms_of

__all__ = ["accrue_program", "list_accruals", "refresh_accruals"]

_CENT = Decimal("0.01")


def _open(program: Program, today: date) -> Period | None:
    """The program period containing today, if the program is valid then."""
    if program.valid_from > today or (program.valid_to is not None and program.valid_to < today):
        return None
    return period_of(today, Granularity(program.period))


async def refresh_accruals(
    session: SQLModelSession,
    *,
    touched: set[tuple[uuid.UUID, str, str]],
    today: date,
    volume_kpis: tuple[str, ...],
    event_chunk: int = 500,
    program_ids: set[uuid.UUID] | None = None,
) -> None:
    """Recompute the accruals the touched (partner, kpi, month) keys can change (of the
    programs `program_ids` only, when given)."""
    programs = await repo.active_programs(session, kpis={kpi for _, kpi, _ in touched})
    if program_ids is not None:
        programs = [p for p in programs if p.id in program_ids]
    entries: list[AccrualEntry] = []
    for program in programs:
        period = _open(program, today)
        if period is None:
            continue
        # The months any basis reads, as before the registry: a program's accruals are
        # refreshed by an update in any of them, even one its own basis does not read.
        months = set().union(*(basis.months(period) for basis in BASES.values()))
        kpis = program_kpis(program)
        partner_ids = {p for p, kpi, month in touched if kpi in kpis and month in months}
        if not partner_ids:
            continue
        partners = [
            p for p in await repo.load_partners(session, ids=partner_ids) if eligible(program, p)
        ]
        figures = await gather_figures(
            session,
            program=program,
            period=period,
            partner_ids=[p.id for p in partners],
            volume_kpis=volume_kpis,
        )
        stored = await repo.load_accruals(
            session, program_ids=[program.id], partner_ids=[p.id for p in partners]
        )
        for partner_id, figure in figures.items():
            key = (program.id, partner_id, str(period))
            row = stored.get(key) or Accrual(
                program_id=program.id,
                partner_id=partner_id,
                period=str(period),
                basis_value="0",
                accrued_minor=0,
            )
            entries.append(_store(session, program, figure, row, new=key not in stored))
    for start in range(0, len(entries), event_chunk):
        add_event(
            session,
            event_type=ACCRUAL_UPDATED,
            source=SOURCE,
            data=AccrualUpdated(accruals=entries[start : start + event_chunk]),
        )


async def accrue_program(
    session: SQLModelSession,
    *,
    program: Program,
    today: date,
    volume_kpis: tuple[str, ...],
    event_chunk: int = 500,
) -> None:
    """Accrue a program just created or replaced from the figures already stored: without
    this its open period would stay empty until the next KPI event."""
    period = _open(program, today) if program.status == "active" else None
    if period is None:
        return
    months = basis_of(program.basis_type).months(period)
    touched = await repo.aggregate_keys_of(session, kpis=program_kpis(program), months=months)
    if touched:
        await refresh_accruals(
            session,
            touched=touched,
            today=today,
            volume_kpis=volume_kpis,
            event_chunk=event_chunk,
            program_ids={program.id},
        )


def _calculate(program: Program, figure: Figures) -> Calculation:
    return calculate(
        terms_of(program),
        basis_value=figure.basis,
        prior_value=figure.prior,
        kpi_values=figure.kpi_values,
    )


def _store(
    session: SQLModelSession, program: Program, figure: Figures, row: Accrual, *, new: bool
) -> AccrualEntry:
    calc = _calculate(program, figure)
    inputs: dict[str, Any] = {
        "prior": None if figure.prior is None else str(figure.prior),
        "kpi_values": {k: None if v is None else str(v) for k, v in figure.kpi_values.items()},
    }
    previous = None if new else row.tier_index
    period = row.period
    row.basis_value, row.tier_index, row.inputs = str(calc.basis_value), calc.tier_index, inputs
    accrued = to_minor(calc.amount, program.currency)
    if accrued > row.accrued_minor:
        AMOUNT_ACCRUED.labels(str(program.id), program.currency).inc(accrued - row.accrued_minor)
    row.accrued_minor = accrued
    ACCRUALS_UPDATED.inc()
    row.updated_at = utcnow()
    session.add(row)
    if calc.tier_index is not None and (previous is None or calc.tier_index > previous):
        TIERS_REACHED.inc()
        tier = program.tiers[calc.tier_index]
        add_event(
            session,
            event_type=TIER_REACHED,
            source=SOURCE,
            subject=str(row.partner_id),
            data=TierReached(
                program_id=program.id,
                program_version=program.version,
                partner_id=row.partner_id,
                period=period,
                tier_index=calc.tier_index,
                previous_tier_index=previous,
                tier_from=Decimal(tier["from"]),
                rate=Decimal(tier["rate"]),
                basis_value=calc.basis_value,
            ),
        )
    return AccrualEntry(
        program_id=program.id,
        partner_id=row.partner_id,
        period=period,
        basis_value=calc.basis_value,
        tier_index=calc.tier_index,
        accrued_amount=calc.amount,
        currency=program.currency,
    )


async def list_accruals(
    session: SQLModelSession,
    *,
    program_id: uuid.UUID | None,
    partner_id: uuid.UUID | None,
    params: PageParams,
    principal: Principal,
    today: date,
) -> Page[AccrualRead]:
    """A page of accruals in each program's open period (a partner portal sees its own)."""
    partner_id = bound_partner_filter(principal, partner_id)
    if program_id is not None:
        program = await repo.get_program(session, program_id=program_id)
        programs = [] if program is None else [program]
    else:
        programs = list(await repo.active_programs(session, kpis=None))
    periods = {p.id: period for p in programs if (period := _open(p, today)) is not None}
    by_id = {p.id: p for p in programs}
    rows = await repo.list_accruals(
        session,
        open_periods={k: str(v) for k, v in periods.items()},
        partner_id=partner_id,
        after=decode_keyset(params.cursor, uuid.UUID, uuid.UUID),
        limit=params.fetch_limit,
    )
    return keyset_page(
        rows,
        limit=params.limit,
        key=lambda row: [str(row.program_id), str(row.partner_id)],
        item=lambda row: _read(row, by_id[row.program_id], periods[row.program_id], today),
    )


def _read(row: Accrual, program: Program, period: Period, today: date) -> AccrualRead:
    values = row.inputs.get("kpi_values", {})
    figure = Figures(
        basis=Decimal(row.basis_value),
        prior=decimal_or_none(row.inputs.get("prior")),
        kpi_values={k: decimal_or_none(v) for k, v in values.items()},
    )
    calc = _calculate(program, figure)
    elapsed = (today - period.start).days + 1
    total = (period.end - period.start).days + 1
    projected_basis = (figure.basis * total / elapsed).quantize(_CENT, rounding=ROUND_HALF_UP)
    projected = _calculate(program, Figures(projected_basis, figure.prior, figure.kpi_values))
    nxt = calc.next_tier
    return AccrualRead(
        program_id=row.program_id,
        partner_id=row.partner_id,
        period=row.period,
        currency=program.currency,
        basis_value=figure.basis,
        tier_index=row.tier_index,
        accrued_amount=from_minor(row.accrued_minor, program.currency),
        next_tier_from=None if nxt is None else nxt.start,
        distance_to_next=None if nxt is None else nxt.distance,
        projected_basis=projected_basis,
        projected_amount=projected.amount,
        updated_at=row.updated_at,
    )
