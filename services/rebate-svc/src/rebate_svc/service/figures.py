"""Who is eligible for a program, and the figures of a period it is computed from."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from channel_common import Period, SQLModelSession

from .. import repo
from ..bases import basis_of, months_of
from ..models import Program

__all__ = ["Figures", "eligible", "gather_figures", "program_kpis"]

# Past this many partners, load the period's aggregates whole rather than by id.
_BY_ID_LIMIT = 500


@dataclass
class Figures:
    """A partner's basis, its baseline's basis (if its basis has one) and qualifier KPI
    values for one period."""

    basis: Decimal = Decimal(0)
    prior: Decimal | None = None
    kpi_values: dict[str, Decimal | None] = field(default_factory=dict)


class PartnerFacts(Protocol):
    """What eligibility looks at (a replica row, or a lighter row with the same fields)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def tier(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def status(self) -> str: ...


def eligible(program: Program, partner: PartnerFacts) -> bool:
    """Whether the partner may earn under the program (empty lists do not restrict)."""
    rules = program.eligibility
    if partner.status != "active":
        return False
    if rules.get("tiers") and partner.tier not in rules["tiers"]:
        return False
    if rules.get("types") and partner.type not in rules["types"]:
        return False
    if rules.get("partner_ids") and str(partner.id) not in rules["partner_ids"]:
        return False
    regions = rules.get("regions")
    return not regions or any(
        partner.region == r or partner.region.startswith(f"{r}-") for r in regions
    )


def program_kpis(program: Program) -> set[str]:
    """The KPIs a program reads: its basis and its qualifiers."""
    return {program.basis_kpi} | {q["kpi"] for q in program.qualifiers}


async def gather_figures(
    session: SQLModelSession,
    *,
    program: Program,
    period: Period,
    partner_ids: Sequence[uuid.UUID],
    volume_kpis: Iterable[str],
) -> dict[uuid.UUID, Figures]:
    """Each partner's figures from the months its basis reads: the basis KPI summed, the
    qualifier KPIs summed when volume KPIs, else their mean."""
    months = months_of(period)
    baseline = basis_of(program.basis_type).baseline(period)
    prior_months = set() if baseline is None else months_of(baseline)
    wanted = set(partner_ids)
    rows = await repo.load_aggregates(
        session,
        kpis=program_kpis(program),
        months=months | prior_months,
        partner_ids=wanted if len(wanted) <= _BY_ID_LIMIT else None,
    )
    values: dict[tuple[uuid.UUID, str, bool], list[Decimal]] = {}
    for partner_id, kpi, month, value in rows:
        if partner_id in wanted:
            values.setdefault((partner_id, kpi, month in months), []).append(Decimal(value))
    volume = set(volume_kpis)
    figures: dict[uuid.UUID, Figures] = {}
    for partner_id in partner_ids:
        current = values.get((partner_id, program.basis_kpi, True), [])
        prior = values.get((partner_id, program.basis_kpi, False))
        kpi_values: dict[str, Decimal | None] = {}
        for q in program.qualifiers:
            found = values.get((partner_id, q["kpi"], True))
            if not found:
                kpi_values[q["kpi"]] = None
            elif q["kpi"] in volume:
                kpi_values[q["kpi"]] = sum(found, Decimal(0))
            else:
                kpi_values[q["kpi"]] = sum(found, Decimal(0)) / len(found)
        figures[partner_id] = Figures(
            basis=sum(current, Decimal(0)),
            prior=None if prior is None else sum(prior, Decimal(0)),
            kpi_values=kpi_values,
        )
    return figures
