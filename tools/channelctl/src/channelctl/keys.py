"""`channelctl keys`: create, list and revoke API keys (needs an admin key)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from .client import CliError
from .context import gateway
from .display import console, table
from .partners import PartnerNames, find_partner

__all__ = ["app"]

app = typer.Typer(help="API keys of the gateway (admin).", no_args_is_help=True)


class Scope(StrEnum):
    """The scopes a key may carry."""

    PARTNERS_READ = "partners:read"
    PARTNERS_WRITE = "partners:write"
    KPIS_READ = "kpis:read"
    KPIS_WRITE = "kpis:write"
    REBATES_READ = "rebates:read"
    REBATES_WRITE = "rebates:write"
    REBATES_APPROVE = "rebates:approve"
    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"
    ADMIN = "admin"


@app.command("create")
def create_key(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    scopes: Annotated[
        list[Scope] | None, typer.Option("--scope", "-s", help="A scope (repeat for more).")
    ] = None,
    partner: Annotated[
        str | None, typer.Option(help="Bind the key to this partner (code or id): a portal key.")
    ] = None,
) -> None:
    """Create an API key and print its secret (shown this once)."""
    if not scopes:
        raise CliError("give at least one --scope, e.g. --scope kpis:write")
    body: dict[str, Any] = {"name": name, "scopes": [s.value for s in scopes]}
    with gateway(ctx) as gw:
        if partner:
            body["partner_id"] = find_partner(gw, partner)["id"]
        created = gw.post("/api/v1/api-keys", body)
    out = console()
    bound = f", bound to {partner}" if partner else ""
    out.print(
        f"created key {created['name']} ({' '.join(created['scopes'])}{bound}), id {created['id']}"
    )
    out.print("secret (shown only now; send it as `Authorization: Bearer …`):")
    # The secret on a line of its own, so `| tail -1` captures it.
    out.print(created["key"], markup=False, soft_wrap=True)


@app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """List API keys, revoked ones included (never their secrets)."""
    with gateway(ctx) as gw:
        rows = list(gw.paginate("/api/v1/api-keys"))
        names = PartnerNames(gw)
        console().print(
            table(
                f"API keys ({len(rows)})",
                [
                    ("Name", lambda k: str(k["name"])),
                    ("Prefix", lambda k: str(k["prefix"])),
                    ("Scopes", lambda k: " ".join(k["scopes"])),
                    ("Partner", lambda k: names.code(k.get("partner_id"))),
                    ("Created", lambda k: str(k["created_at"])[:19]),
                    ("Revoked", lambda k: str(k.get("revoked_at") or "")[:19]),
                    ("Id", lambda k: str(k["id"])),
                ],
                rows,
            )
        )


@app.command("revoke")
def revoke_key(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id.")]
) -> None:
    """Revoke an API key: it is refused from now on."""
    with gateway(ctx) as gw:
        gw.request("DELETE", f"/api/v1/api-keys/{key_id}")
    console().print(f"revoked {key_id}")
