"""Reading KPIs: series over any granularity, period summaries with MoM/YoY, rankings and raw
observations. Weeks are built from day aggregates; quarters and years from month aggregates."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from channel_common import (
    Granularity,
    NotFoundError,
    PageParams,
    Period,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    bound_partner_filter,
    decode_keyset,
    next_cursor,
    parse_period,
    period_of,
    periods_between,
    today,
)

from .. import repo
from ..aggregation import AggregateState, Aggregation, group_value
from ..scaled import ratio
from ..schemas import (
    GroupBy,
    KpiRanking,
    KpiSummary,
    RankingRow,
    SeriesPoint,
    SummaryRow,
)
from .definitions import get_definition

__all__ = [
    "MAX_SERIES_POINTS",
    "kpi_ranking",
    "kpi_series",
    "kpi_summary",
    "period_value",
    "source_granularity",
]

MAX_SERIES_POINTS = 5000


def source_granularity(granularity: Granularity) -> Granularity:
    """The stored aggregates a period of `granularity` is built from."""
    if granularity in (Granularity.DAY, Granularity.WEEK):
        return Granularity.DAY
    return Granularity.MONTH


def _source_start(period: str, granularity: Granularity) -> date:
    if granularity == Granularity.DAY:
        return date.fromisoformat(period)
    return date(int(period[:4]), int(period[5:7]), 1)


def parse_query_period(text: str, name: str) -> Period:
    """A period from a query parameter; 422 when it is not one."""
    try:
        return parse_period(text)
    except ValueError as exc:
        raise ValidationFailedError(
            f"{name} is not a period.", errors=[{"loc": ["query", name], "msg": str(exc)}]
        ) from exc


async def _visible_partner(
    session: SQLModelSession, principal: Principal, partner_id: uuid.UUID | None
) -> uuid.UUID | None:
    partner_id = bound_partner_filter(principal, partner_id)
    if partner_id is not None and await repo.get_partner(session, partner_id=partner_id) is None:
        raise NotFoundError("Partner not found.")
    return partner_id


async def kpi_series(
    session: SQLModelSession,
    *,
    kpi: str,
    granularity: Granularity,
    first: str | None,
    last: str | None,
    partner_id: uuid.UUID | None,
    tier: str | None,
    region: str | None,
    principal: Principal,
) -> list[SeriesPoint]:
    """The KPI per period of `granularity` from the period containing `first` to the one
    containing `last` (whole periods; default: the trailing year to today); only periods with
    data appear."""
    definition = await get_definition(session, key=kpi)
    partner_id = await _visible_partner(session, principal, partner_id)
    end = parse_query_period(last, "to").end if last else today()
    last_period = period_of(end, granularity)
    if first:
        first_period = period_of(parse_query_period(first, "from").start, granularity)
    else:
        first_period = last_period.year_ago().next()
    if first_period.start > last_period.start:
        raise ValidationFailedError(
            "from is after to.", errors=[{"loc": ["query", "from"], "msg": "after to"}]
        )
    if _count_periods(first_period, last_period) > MAX_SERIES_POINTS:
        raise ValidationFailedError(
            f"The range holds more than {MAX_SERIES_POINTS} periods; narrow it.",
            errors=[{"loc": ["query", "from"], "msg": "range too long"}],
        )
    source = source_granularity(granularity)
    rows = await repo.aggregate_rows(
        session,
        granularity=source.value,
        kpi=kpi,
        between=(
            str(period_of(first_period.start, source)),
            str(period_of(last_period.end, source)),
        ),
        partner_id=partner_id,
        tier=tier,
        region=region,
    )
    buckets: dict[Period, dict[uuid.UUID, list[AggregateState]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        bucket = period_of(_source_start(row.period, source), granularity)
        buckets[bucket][row.partner_id].append(row.state)
    aggregation = Aggregation(definition.aggregation)
    points = []
    for bucket in sorted(buckets, key=lambda p: p.start):
        value, count = group_value(buckets[bucket].values(), aggregation)
        points.append(SeriesPoint(period=str(bucket), value=value, count=count))
    return points


def _count_periods(first: Period, last: Period) -> int:
    days = (last.start - first.start).days
    per = {Granularity.DAY: 1, Granularity.WEEK: 7, Granularity.MONTH: 28}
    if days // per.get(first.granularity, 365) > MAX_SERIES_POINTS:
        return MAX_SERIES_POINTS + 1
    return sum(1 for _ in periods_between(first, last))


async def period_value(
    session: SQLModelSession,
    *,
    kpi: str,
    periods: Iterable[Period],
    group_of: Callable[[repo.AggregateRow], str],
    aggregation: Aggregation,
    partner_id: uuid.UUID | None = None,
    tier: str | None = None,
    region: str | None = None,
) -> dict[Period, dict[str, tuple[Decimal, int]]]:
    """For each of `periods` (one granularity), the value and count of every group."""
    wanted = list(dict.fromkeys(periods))
    source = source_granularity(wanted[0].granularity)
    owners: dict[str, list[Period]] = defaultdict(list)
    for period in wanted:
        for part in period.parts(source):
            owners[str(part)].append(period)
    rows = await repo.aggregate_rows(
        session,
        granularity=source.value,
        kpi=kpi,
        periods=sorted(owners),
        partner_id=partner_id,
        tier=tier,
        region=region,
    )
    grouped: dict[Period, dict[str, dict[uuid.UUID, list[AggregateState]]]] = {
        period: defaultdict(lambda: defaultdict(list)) for period in wanted
    }
    for row in rows:
        for period in owners[row.period]:
            grouped[period][group_of(row)][row.partner_id].append(row.state)
    return {
        period: {
            group: group_value(partners.values(), aggregation) for group, partners in groups.items()
        }
        for period, groups in grouped.items()
    }


_GROUP_OF: dict[GroupBy, Callable[[repo.AggregateRow], str]] = {
    GroupBy.PARTNER: lambda row: str(row.partner_id),
    GroupBy.TIER: lambda row: row.tier,
    GroupBy.REGION: lambda row: row.region,
}


def _change(value: Decimal | None, earlier: Decimal | None) -> Decimal | None:
    if value is None or earlier is None or earlier == 0:
        return None
    return ratio(value - earlier, abs(earlier))


async def kpi_summary(
    session: SQLModelSession,
    *,
    kpi: str,
    period: str,
    group_by: GroupBy,
    principal: Principal,
    params: PageParams,
) -> KpiSummary:
    """Every group with data in the period, the previous period or a year before (a page)."""
    keyset = decode_keyset(params.cursor, str)
    definition = await get_definition(session, key=kpi)
    current = parse_query_period(period, "period")
    previous, year_ago = current.previous(), current.year_ago()
    values = await period_value(
        session,
        kpi=kpi,
        periods=(current, previous, year_ago),
        group_of=_GROUP_OF[group_by],
        aggregation=Aggregation(definition.aggregation),
        partner_id=bound_partner_filter(principal, None),
    )
    groups = sorted(set().union(*(v.keys() for v in values.values())))
    if keyset is not None:
        groups = [g for g in groups if g > keyset[0]]
    rows = []
    for group in groups[: params.limit]:
        value, count = values[current].get(group, (None, 0))
        before = values[previous].get(group, (None, 0))[0]
        then = values[year_ago].get(group, (None, 0))[0]
        rows.append(
            SummaryRow(
                group=group,
                value=value,
                count=count,
                previous_value=before,
                change_pct=_change(value, before),
                year_ago_value=then,
                yoy_pct=_change(value, then),
            )
        )
    return KpiSummary(
        kpi=kpi,
        group_by=group_by,
        period=str(current),
        previous_period=str(previous),
        year_ago_period=str(year_ago),
        items=rows,
        next_cursor=next_cursor(groups, limit=params.limit, key=lambda group: [group]),
    )


async def kpi_ranking(
    session: SQLModelSession,
    *,
    kpi: str,
    period: str,
    limit: int,
    tier: str | None,
    region: str | None,
    principal: Principal,
) -> KpiRanking:
    """Partners best first for the period (ties share a rank, then by partner code)."""
    definition = await get_definition(session, key=kpi)
    current = parse_query_period(period, "period")
    codes: dict[str, str] = {}

    def partner_of(row: repo.AggregateRow) -> str:
        codes[str(row.partner_id)] = row.partner_code
        return str(row.partner_id)

    values = (
        await period_value(
            session,
            kpi=kpi,
            periods=[current],
            group_of=partner_of,
            aggregation=Aggregation(definition.aggregation),
            partner_id=bound_partner_filter(principal, None),
            tier=tier,
            region=region,
        )
    )[current]
    sign = -1 if definition.higher_is_better else 1
    ordered = sorted(values.items(), key=lambda kv: (sign * kv[1][0], codes[kv[0]]))
    items: list[RankingRow] = []
    for position, (partner, (value, count)) in enumerate(ordered[:limit], start=1):
        rank = items[-1].rank if items and items[-1].value == value else position
        items.append(
            RankingRow(
                rank=rank,
                partner_id=uuid.UUID(partner),
                partner_code=codes[partner],
                value=value,
                count=count,
            )
        )
    return KpiRanking(kpi=kpi, period=str(current), items=items)
