"""Routes of KPI analysis: series, period summaries and rankings."""

from __future__ import annotations

import uuid
from typing import Annotated

from channel_common import (
    MAX_PAGE_SIZE,
    Granularity,
    PageParams,
    ServiceRoute,
    SessionDep,
    problem_responses,
)
from fastapi import APIRouter, Depends, Path, Query

from .. import service
from ..schemas import GroupBy, KpiRanking, KpiSummary, SeriesPoint
from .deps import Reader

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"], route_class=ServiceRoute)
KpiPath = Annotated[str, Path(max_length=64, description="The KPI key, e.g. sales_amount.")]
PeriodQuery = Annotated[
    str, Query(max_length=10, description="2026-10-15, 2026-W42, 2026-10, 2026-Q4 or 2026.")
]
TierQuery = Annotated[str | None, Query(max_length=64, description="Partners of this tier.")]
RegionQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$",
        description="Partners of this region or its sub-regions.",
    ),
]


@router.get("/{kpi}/series", responses=problem_responses(404, 422))
async def kpi_series(
    kpi: KpiPath,
    session: SessionDep,
    principal: Reader,
    partner_id: uuid.UUID | None = None,
    tier: TierQuery = None,
    region: RegionQuery = None,
    granularity: Granularity = Granularity.MONTH,
    first: Annotated[
        str | None, Query(alias="from", max_length=10, description="First period (any form).")
    ] = None,
    last: Annotated[
        str | None, Query(alias="to", max_length=10, description="Last period (default today).")
    ] = None,
) -> list[SeriesPoint]:
    """The KPI per period over a range (only periods with data), for a partner or a group."""
    return await service.kpi_series(
        session,
        kpi=kpi,
        granularity=granularity,
        first=first,
        last=last,
        partner_id=partner_id,
        tier=tier,
        region=region,
        principal=principal,
    )


@router.get("/{kpi}/summary", responses=problem_responses(404, 422))
async def kpi_summary(
    kpi: KpiPath,
    period: PeriodQuery,
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageParams, Depends()],
    group_by: GroupBy = GroupBy.PARTNER,
) -> KpiSummary:
    """The KPI per group for a period, with change against the previous period and a year ago."""
    return await service.kpi_summary(
        session, kpi=kpi, period=period, group_by=group_by, principal=principal, params=page
    )


@router.get("/{kpi}/ranking", responses=problem_responses(404, 422))
async def kpi_ranking(
    kpi: KpiPath,
    period: PeriodQuery,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    tier: TierQuery = None,
    region: RegionQuery = None,
) -> KpiRanking:
    """Partners ranked best first for the period."""
    return await service.kpi_ranking(
        session,
        kpi=kpi,
        period=period,
        limit=limit,
        tier=tier,
        region=region,
        principal=principal,
    )
