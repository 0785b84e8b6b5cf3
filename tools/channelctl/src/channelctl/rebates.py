"""`channelctl rebates`: programs, runs (with a spinner), statements and live accruals."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer

from .client import CliError, Gateway
from .context import gateway, state
from .display import console, money, percent, table, tier_label
from .partners import PartnerNames, find_partner

__all__ = [
    "accruals_tables",
    "app",
    "find_program",
    "programs_by_id",
    "run_program",
    "statements_table",
]

app = typer.Typer(help="Rebate programs, runs, statements and accruals.", no_args_is_help=True)

DONE = frozenset({"completed", "failed"})
POLL_SECONDS = 0.5
# Up to this many statements, a run's table also shows each basis (one request per statement).
DETAILED_ROWS = 50


def find_program(gw: Gateway, ref: str) -> dict[str, Any]:
    """The program with this id, or with this name (case-insensitive; must be unambiguous)."""
    try:
        program_id = uuid.UUID(ref)
    except ValueError:
        pass
    else:
        found = gw.find(f"/api/v1/rebate-programs/{program_id}")
        if found is None:
            raise CliError(f"no rebate program with id {ref}")
        return dict(found)
    matches = [
        p for p in gw.paginate("/api/v1/rebate-programs") if p["name"].lower() == ref.lower()
    ]
    if not matches:
        raise CliError(f"no rebate program named {ref!r}; `channelctl rebates programs` lists them")
    if len(matches) > 1:
        ids = ", ".join(str(p["id"]) for p in matches)
        raise CliError(f"{len(matches)} programs are named {ref!r}; give one of the ids: {ids}")
    return dict(matches[0])


def run_program(
    gw: Gateway,
    program: Mapping[str, Any],
    period: str,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Start a run of `program` for `period` and wait, with a spinner, until it is done."""
    started = gw.post("/api/v1/rebate-runs", {"program_id": program["id"], "period": period})
    deadline = time.monotonic() + timeout
    with console().status(f"running {program['name']} for {period}…", spinner="dots"):
        run: dict[str, Any] = gw.get(f"/api/v1/rebate-runs/{started['id']}")
        while run["status"] not in DONE:
            if time.monotonic() > deadline:
                raise CliError(
                    f"run {started['id']} still {run['status']} after {timeout:.0f} s; "
                    f"ask again with `channelctl rebates statements --program {program['id']}`"
                )
            sleep(POLL_SECONDS)
            run = gw.get(f"/api/v1/rebate-runs/{started['id']}")
    if run["status"] != "completed":
        raise CliError(f"run {run['id']} ended {run['status']}")
    return run


def statements_table(
    title: str, statements: list[dict[str, Any]], names: PartnerNames, bases: Mapping[str, str]
) -> Any:
    """Statements by partner: tier reached, amount, kind, status and why nothing was earned."""
    names.prefetch([s["partner_id"] for s in statements])
    columns = [
        ("Partner", lambda s: names.code(s["partner_id"])),
        ("Period", lambda s: str(s["period"])),
    ]
    if bases:
        columns.append(("Basis", lambda s: money(bases.get(str(s["id"])))))
    columns += [
        ("Tier", lambda s: tier_label(s.get("tier_index"))),
        ("Amount", lambda s: f"{money(s['amount'])} {s['currency']}"),
        ("Kind", lambda s: str(s["kind"])),
        ("Status", lambda s: str(s["status"])),
    ]
    if any(s.get("reason") for s in statements):
        columns.append(("Reason", lambda s: str(s.get("reason") or "")))
    return table(title, columns, sorted(statements, key=lambda s: names.code(s["partner_id"])))


def statement_bases(gw: Gateway, statements: list[dict[str, Any]]) -> dict[str, str]:
    """Each statement's basis value, when there are few enough to ask one by one."""
    if len(statements) > DETAILED_ROWS:
        return {}
    return {
        str(s["id"]): str(gw.get(f"/api/v1/rebate-statements/{s['id']}")["basis_value"])
        for s in statements
    }


def accruals_tables(
    rows: list[dict[str, Any]], names: PartnerNames, programs: Mapping[str, Mapping[str, Any]]
) -> list[Any]:
    """One table per program of live accruals: basis so far, tier reached, accrued, distance
    to the next tier (a growth ratio for growth programs), projection to the period's end."""
    names.prefetch([a["partner_id"] for a in rows])
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row["program_id"]), []).append(row)
    tables = []
    for program_id, accruals in sorted(
        grouped.items(), key=lambda item: str(programs.get(item[0], {}).get("name", item[0]))
    ):
        program = programs.get(program_id, {})
        growth = program.get("basis", {}).get("type") == "growth"

        def to_next(a: Mapping[str, Any], growth: bool = growth) -> str:
            distance = a.get("distance_to_next")
            if growth and distance is not None:
                return f"+{percent(distance).removesuffix(' %')} pts"
            return money(distance)

        title = f"{program.get('name', program_id)} — {accruals[0]['period']}"
        tables.append(
            table(
                title,
                [
                    ("Partner", lambda a: names.code(a["partner_id"])),
                    ("Basis", lambda a: money(a["basis_value"])),
                    ("Tier", lambda a: tier_label(a.get("tier_index"))),
                    ("Accrued", lambda a: money(a["accrued_amount"])),
                    ("Growth to next tier" if growth else "To next tier", to_next),
                    ("Projected basis", lambda a: money(a["projected_basis"])),
                    ("Projected", lambda a: f"{money(a['projected_amount'])} {a['currency']}"),
                ],
                sorted(accruals, key=lambda a: names.code(a["partner_id"])),
            )
        )
    return tables


def programs_by_id(gw: Gateway) -> dict[str, dict[str, Any]]:
    """Every program by id."""
    return {str(p["id"]): p for p in gw.paginate("/api/v1/rebate-programs")}


@app.command("programs")
def list_programs(ctx: typer.Context) -> None:
    """List rebate programs (current versions)."""
    with gateway(ctx) as gw:
        rows = list(gw.paginate("/api/v1/rebate-programs"))
    console().print(
        table(
            f"Rebate programs ({len(rows)})",
            [
                ("Name", lambda p: str(p["name"])),
                ("Period", lambda p: str(p["period"])),
                ("Basis", lambda p: f"{p['basis']['kpi']} ({p['basis']['type']})"),
                ("Method", lambda p: str(p["method"])),
                (
                    "Tiers",
                    lambda p: ", ".join(f"{t['from']}→{t['rate']}" for t in p["tiers"]),
                ),
                ("Status", lambda p: str(p["status"])),
                ("Id", lambda p: str(p["id"])),
            ],
            rows,
        )
    )


@app.command("run")
def run_command(
    ctx: typer.Context,
    program: Annotated[str, typer.Argument(help="Program name or id.")],
    period: Annotated[str, typer.Argument(help="A period of the program: 2026-Q3, 2026-10, 2026.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the run.")] = 300.0,
) -> None:
    """Run a program for a period, wait for it, and print its statements."""
    with gateway(ctx) as gw:
        found = find_program(gw, program)
        run = run_program(gw, found, period, timeout=timeout, sleep=state(ctx).options.sleep)
        names = PartnerNames(gw)
        bases = statement_bases(gw, run["statements"])
        out = console()
        out.print(
            statements_table(
                f"{found['name']} — {period} (run {run['id']})", run["statements"], names, bases
            )
        )
        out.print(
            f"{len(run['statements'])} statements, total "
            f"[bold]{money(run['total_amount'])} {run['currency']}[/]"
        )


@app.command("statements")
def list_statements(
    ctx: typer.Context,
    program: Annotated[str | None, typer.Option(help="Program name or id.")] = None,
    partner: Annotated[str | None, typer.Option(help="Partner code or id.")] = None,
    period: Annotated[str | None, typer.Option(help="Period, e.g. 2026-Q3.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, approved, paid or void.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 200,
) -> None:
    """List rebate statements."""
    with gateway(ctx) as gw:
        rows = list(
            gw.paginate(
                "/api/v1/rebate-statements",
                limit=limit,
                program_id=find_program(gw, program)["id"] if program else None,
                partner_id=find_partner(gw, partner)["id"] if partner else None,
                period=period,
                status=status,
            )
        )
        console().print(
            statements_table(f"Rebate statements ({len(rows)})", rows, PartnerNames(gw), {})
        )


@app.command("accruals")
def list_accruals(
    ctx: typer.Context,
    program: Annotated[str | None, typer.Option(help="Program name or id.")] = None,
    partner: Annotated[str | None, typer.Option(help="Partner code or id.")] = None,
) -> None:
    """Live accruals of each program's open period, with the projection to its end."""
    with gateway(ctx) as gw:
        rows = list(
            gw.paginate(
                "/api/v1/accruals",
                program_id=find_program(gw, program)["id"] if program else None,
                partner_id=find_partner(gw, partner)["id"] if partner else None,
            )
        )
        out = console()
        for accruals in accruals_tables(rows, PartnerNames(gw), programs_by_id(gw)):
            out.print(accruals)
        out.print(f"{len(rows)} accruals in open periods")
