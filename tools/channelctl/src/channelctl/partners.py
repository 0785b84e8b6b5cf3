"""`channelctl partners`: list, show and create partners of the register."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from .client import ApiError, CliError, Gateway
from .context import gateway
from .display import console, table

__all__ = ["PartnerNames", "app", "find_partner"]

# Past this many unknown ids, one walk over the register beats one request per id.
PREFETCH_THRESHOLD = 20

app = typer.Typer(help="The partner register: list, show, create.", no_args_is_help=True)


class PartnerType(StrEnum):
    """Partner types of the register."""

    DISTRIBUTOR = "distributor"
    AGENT = "agent"
    RESELLER = "reseller"
    RETAILER = "retailer"
    ONLINE = "online"
    DIRECT = "direct"


class PartnerStatus(StrEnum):
    """Lifecycle states."""

    PROSPECT = "prospect"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


def find_partner(gw: Gateway, ref: str) -> dict[str, Any]:
    """The partner with this code or id (CliError when there is none)."""
    try:
        partner_id = uuid.UUID(ref)
    except ValueError:
        found = gw.find(f"/api/v1/partners/by-code/{ref}")
    else:
        found = gw.find(f"/api/v1/partners/{partner_id}")
    if found is None:
        raise CliError(f"no partner with code or id {ref!r}")
    return dict(found)


class PartnerNames:
    """Partner codes by id, fetched once per id (tables show codes, the API gives ids)."""

    def __init__(self, gw: Gateway, known: Mapping[str, str] | None = None) -> None:
        """Start with the `known` id → code pairs."""
        self._gw = gw
        self._codes: dict[str, str] = dict(known or {})

    def remember(self, partners: list[dict[str, Any]]) -> None:
        """Add the codes of partners already fetched."""
        self._codes.update({str(p["id"]): str(p["code"]) for p in partners})

    def load_all(self) -> None:
        """Fetch every partner's code at once (cheaper than one request per row)."""
        self.remember(list(self._gw.paginate("/api/v1/partners")))

    def prefetch(self, partner_ids: list[Any]) -> None:
        """Load every code at once when many of these ids are unknown."""
        unknown = {str(p) for p in partner_ids if p is not None} - set(self._codes)
        if len(unknown) > PREFETCH_THRESHOLD:
            self.load_all()

    def code(self, partner_id: Any) -> str:
        """The code of a partner id (the id itself when the partner is not visible)."""
        if partner_id is None:
            return "-"
        key = str(partner_id)
        if key not in self._codes:
            try:
                self._codes[key] = str(self._gw.get(f"/api/v1/partners/{key}")["code"])
            except ApiError:
                self._codes[key] = key
        return self._codes[key]


@app.command("list")
def list_partners(
    ctx: typer.Context,
    status: Annotated[PartnerStatus | None, typer.Option(help="Only this status.")] = None,
    tier: Annotated[str | None, typer.Option(help="Only this tier key.")] = None,
    partner_type: Annotated[PartnerType | None, typer.Option("--type", help="Only this type.")] = (
        None
    ),
    region: Annotated[str | None, typer.Option(help="Region prefix: CN-GD includes CN-GD-SZ.")] = (
        None
    ),
    parent: Annotated[str | None, typer.Option(help="Children of this partner (code or id).")] = (
        None
    ),
    search: Annotated[str | None, typer.Option("--search", "-q", help="Name or code contains.")] = (
        None
    ),
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 100,
) -> None:
    """List partners by code."""
    with gateway(ctx) as gw:
        parent_id = find_partner(gw, parent)["id"] if parent else None
        rows = list(
            gw.paginate(
                "/api/v1/partners",
                limit=limit,
                status=status and status.value,
                tier=tier,
                type=partner_type and partner_type.value,
                region=region,
                parent_id=parent_id,
                q=search,
            )
        )
        names = PartnerNames(gw)
        names.remember(rows)
        console().print(
            table(
                f"Partners ({len(rows)})",
                [
                    ("Code", lambda p: str(p["code"])),
                    ("Name", lambda p: str(p["name"])),
                    ("Type", lambda p: str(p["type"])),
                    ("Tier", lambda p: str(p["tier"])),
                    ("Region", lambda p: str(p["region"])),
                    ("Status", lambda p: str(p["status"])),
                    ("Parent", lambda p: names.code(p.get("parent_id"))),
                ],
                rows,
            )
        )


@app.command("show")
def show_partner(
    ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Partner code or id.")]
) -> None:
    """Show one partner: master data, qualification, territories and direct children."""
    with gateway(ctx) as gw:
        partner = find_partner(gw, ref)
        children = list(gw.paginate(f"/api/v1/partners/{partner['id']}/children"))
        parent = PartnerNames(gw).code(partner.get("parent_id"))
        out = console()
        out.print(Panel(_details(partner, parent), title=f"{partner['code']} — {partner['name']}"))
        if children:
            out.print(
                table(
                    "Children",
                    [
                        ("Code", lambda p: str(p["code"])),
                        ("Name", lambda p: str(p["name"])),
                        ("Type", lambda p: str(p["type"])),
                        ("Region", lambda p: str(p["region"])),
                        ("Status", lambda p: str(p["status"])),
                    ],
                    children,
                )
            )


def _details(partner: Mapping[str, Any], parent: str) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    qualification = partner.get("qualification") or {}
    contact = partner.get("contact") or {}
    territories = ", ".join(
        t["region"] + (" (exclusive)" if t.get("exclusive") else "")
        for t in partner.get("territories") or []
    )
    rows = [
        ("id", partner["id"]),
        ("type", partner["type"]),
        ("tier", partner["tier"]),
        ("status", partner["status"]),
        ("region", partner["region"]),
        ("parent", parent),
        ("territories", territories or "-"),
        ("contact", " · ".join(str(v) for v in contact.values() if v) or "-"),
        (
            "qualification",
            f"capital {qualification.get('registered_capital') or '-'}, "
            f"{qualification.get('years_in_business') or '-'} years, "
            f"{qualification.get('service_staff') or '-'} service staff",
        ),
        ("attributes", ", ".join(f"{k}={v}" for k, v in (partner.get("attributes") or {}).items())),
        ("version", partner["version"]),
        ("updated", partner["updated_at"]),
    ]
    for name, value in rows:
        grid.add_row(name, str(value) if value not in (None, "") else "-")
    return grid


@app.command("create")
def create_partner(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Unique code, [A-Za-z0-9_-].")],
    name: Annotated[str, typer.Argument(help="Display name.")],
    partner_type: Annotated[PartnerType, typer.Option("--type", help="Partner type.")],
    region: Annotated[str, typer.Option(help="Home region, e.g. CN-GD-SZ.")],
    tier: Annotated[str | None, typer.Option(help="Tier key (default: the lowest).")] = None,
    parent: Annotated[str | None, typer.Option(help="Upstream partner (code or id).")] = None,
    capital: Annotated[str | None, typer.Option(help="Registered capital.")] = None,
    years: Annotated[int | None, typer.Option(help="Years in business.")] = None,
    staff: Annotated[int | None, typer.Option(help="Service staff.")] = None,
    email: Annotated[str | None, typer.Option(help="Contact e-mail.")] = None,
    activate: Annotated[
        bool, typer.Option(help="Move it through onboarding to active (admission is checked).")
    ] = False,
    reason: Annotated[str, typer.Option(help="Reason recorded in the history.")] = (
        "created with channelctl"
    ),
) -> None:
    """Register a partner (it starts as prospect; --activate moves it to active)."""
    body: dict[str, Any] = {"code": code, "name": name, "type": partner_type.value}
    body["region"] = region
    if tier:
        body["tier"] = tier
    qualification = {"registered_capital": capital, "years_in_business": years}
    qualification["service_staff"] = staff
    body["qualification"] = {k: v for k, v in qualification.items() if v is not None}
    if email:
        body["contact"] = {"email": email}
    body["reason"] = reason
    with gateway(ctx) as gw:
        if parent:
            body["parent_id"] = find_partner(gw, parent)["id"]
        partner = gw.post("/api/v1/partners", body)
        if activate:
            for to in ("onboarding", "active"):
                partner = gw.post(
                    f"/api/v1/partners/{partner['id']}/transitions", {"to": to, "reason": reason}
                )
        console().print(
            f"created {partner['code']} ({partner['type']}, tier {partner['tier']}, "
            f"{partner['region']}) — {partner['status']}, id {partner['id']}"
        )
