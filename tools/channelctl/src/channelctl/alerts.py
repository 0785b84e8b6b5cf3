"""`channelctl alerts`: list alerts, acknowledge them, list the rules behind them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from .client import CliError, Gateway
from .context import gateway
from .display import console, number, short_id, table
from .partners import find_partner

__all__ = ["alerts_table", "app"]

app = typer.Typer(help="Threshold alerts: list, acknowledge, rules.", no_args_is_help=True)


class AlertState(StrEnum):
    """Alert states."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(StrEnum):
    """Alert severities."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


def alerts_table(title: str, rows: list[dict[str, Any]]) -> Any:
    """Alerts with the partner's code from their labels and the condition in words."""
    return table(
        title,
        [
            ("Id", lambda a: short_id(a["id"])),
            ("State", lambda a: str(a["state"])),
            ("Severity", lambda a: str(a["severity"])),
            ("Partner", lambda a: str(a["labels"].get("partner_code", a["partner_id"]))),
            ("Rule", lambda a: str(a["labels"].get("rule", short_id(a["rule_id"])))),
            ("Summary", lambda a: str(a["summary"])),  # names the period and the value
        ],
        rows,
    )


@app.command("list")
def list_alerts(
    ctx: typer.Context,
    alert_state: Annotated[
        AlertState | None, typer.Option("--state", help="Only this state (default: all).")
    ] = None,
    severity: Annotated[Severity | None, typer.Option(help="Only this severity.")] = None,
    partner: Annotated[str | None, typer.Option(help="Partner code or id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 100,
) -> None:
    """List alerts, newest first."""
    with gateway(ctx) as gw:
        rows = list(
            gw.paginate(
                "/api/v1/alerts",
                limit=limit,
                state=alert_state and alert_state.value,
                severity=severity and severity.value,
                partner_id=find_partner(gw, partner)["id"] if partner else None,
            )
        )
    console().print(alerts_table(f"Alerts ({len(rows)})", rows))


def _firing_by_reference(gw: Gateway, refs: list[str]) -> list[dict[str, Any]]:
    """The firing alerts named by full ids or unique id prefixes."""
    firing = list(gw.paginate("/api/v1/alerts", state="firing"))
    chosen = []
    for ref in refs:
        matches = [a for a in firing if str(a["id"]).startswith(ref.lower())]
        if len(matches) != 1:
            problem = "no firing alert" if not matches else f"{len(matches)} firing alerts"
            raise CliError(f"{problem} with an id starting {ref!r}")
        chosen.append(matches[0])
    return chosen


@app.command("ack")
def acknowledge(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None, typer.Argument(help="Alert ids (or unique prefixes, as listed).")
    ] = None,
    partner: Annotated[
        str | None, typer.Option(help="Acknowledge every firing alert of this partner.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Who is on it, and what they do.")] = None,
) -> None:
    """Acknowledge firing alerts: someone is on it (they stay open until resolved)."""
    if not ids and not partner:
        raise CliError("name alert ids, or --partner CODE")
    with gateway(ctx) as gw:
        chosen = _firing_by_reference(gw, ids or [])
        if partner:
            partner_id = find_partner(gw, partner)["id"]
            chosen += list(gw.paginate("/api/v1/alerts", state="firing", partner_id=partner_id))
            if not chosen:
                raise CliError(f"{partner} has no firing alert")
        body = {"note": note} if note else {}
        unique = {str(alert["id"]): alert for alert in chosen}
        acked = [gw.post(f"/api/v1/alerts/{alert_id}/ack", body) for alert_id in unique]
    console().print(alerts_table(f"Acknowledged ({len(acked)})", acked))


@app.command("rules")
def list_rules(ctx: typer.Context) -> None:
    """List alert rules."""
    with gateway(ctx) as gw:
        rows = list(gw.paginate("/api/v1/alert-rules"))
    console().print(
        table(
            f"Alert rules ({len(rows)})",
            [
                ("Name", lambda r: str(r["name"])),
                ("KPI", lambda r: str(r["kpi"])),
                ("Condition", lambda r: describe_condition(r["condition"])),
                ("For", lambda r: f"{r['for_periods']} {r['granularity']}"),
                ("Severity", lambda r: str(r["severity"])),
                ("Enabled", lambda r: "yes" if r["enabled"] else "no"),
            ],
            rows,
        )
    )


def describe_condition(condition: dict[str, Any]) -> str:
    """A rule's condition in short words."""
    kind = condition.get("type")
    if kind == "threshold":
        return f"{condition['op']} {number(condition['value'])}"
    if kind == "change":
        return f"change vs {condition['compare_to']} {condition['op']} {number(condition['pct'])}"
    if kind == "absence":
        return f"no data for {condition['days']} days"
    if kind == "anomaly":
        return f"z-score > {number(condition['zscore'])} over {condition['lookback']}"
    return str(kind)
