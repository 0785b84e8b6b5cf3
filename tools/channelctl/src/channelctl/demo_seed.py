"""Putting the demo channel into the suite, step by step and idempotently: what exists (by
partner code, program name, rule name, webhook URL) is kept, what is missing is created."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import ApiError, CliError, Gateway
from .demo_data import ALERT_RULES, PARTNERS, DemoPartner, program_bodies

__all__ = [
    "Seeded",
    "ensure_alert_rules",
    "ensure_partners",
    "ensure_programs",
    "ensure_webhook",
    "wait_for",
]

REASON = "channelctl demo"
BUSY = frozenset({502, 503, 504})


@dataclass
class Seeded:
    """What a seeding step found and what it created."""

    created: int = 0
    existing: int = 0
    notes: list[str] | None = None

    def line(self, noun: str) -> str:
        """`3 created, 17 already there` style summary."""
        parts = []
        if self.created:
            parts.append(f"{self.created} {noun} created")
        if self.existing:
            parts.append(f"{self.existing} already there")
        return ", ".join(parts) or f"no {noun}"


def _partner_body(partner: DemoPartner, ids: dict[str, str]) -> dict[str, Any]:
    capital, years, staff = partner.qualification
    slug = partner.code.lower()
    body: dict[str, Any] = {
        "code": partner.code,
        "name": partner.name,
        "type": partner.type,
        "tier": partner.tier,
        "region": partner.region,
        "qualification": {
            "registered_capital": capital,
            "years_in_business": years,
            "service_staff": staff,
        },
        "contact": {"name": f"{partner.name} channel desk", "email": f"channel@{slug}.example.cn"},
        "attributes": {"segment": partner.type, "source": "demo"},
        "reason": REASON,
    }
    if partner.parent:
        body["parent_id"] = ids[partner.parent]
    return body


def ensure_partners(gw: Gateway) -> tuple[dict[str, str], Seeded]:
    """Every demo partner registered, active and holding its territories; codes → ids."""
    ids: dict[str, str] = {}
    seeded = Seeded(notes=[])
    for partner in PARTNERS:  # parents come before their children
        found = gw.find(f"/api/v1/partners/by-code/{partner.code}")
        if found is None:
            found = gw.post("/api/v1/partners", _partner_body(partner, ids))
            seeded.created += 1
        else:
            seeded.existing += 1
        ids[partner.code] = str(found["id"])
        for to in {"prospect": ("onboarding", "active"), "onboarding": ("active",)}.get(
            found["status"], ()
        ):
            found = gw.post(
                f"/api/v1/partners/{found['id']}/transitions", {"to": to, "reason": REASON}
            )
        wanted = [{"region": r, "exclusive": e} for r, e in partner.territories]
        held = [{"region": t["region"], "exclusive": t["exclusive"]} for t in found["territories"]]
        if wanted and held != wanted:
            _claim_territories(gw, found, wanted, seeded)
    return ids, seeded


def _claim_territories(
    gw: Gateway, partner: dict[str, Any], wanted: list[dict[str, Any]], seeded: Seeded
) -> None:
    path = f"/api/v1/partners/{partner['id']}/territories"
    try:
        gw.put(path, {"territories": wanted, "reason": REASON})
    except ApiError as exc:
        if exc.status != 409:
            raise
        # Someone else (the README's curl tour, say) holds the city exclusively: share it.
        shared = [{**t, "exclusive": False} for t in wanted]
        gw.put(path, {"territories": shared, "reason": REASON})
        if seeded.notes is not None:
            seeded.notes.append(f"{partner['code']}: territory shared, not exclusive ({exc})")


def ensure_programs(gw: Gateway, first_day: Any) -> tuple[dict[str, dict[str, Any]], Seeded]:
    """Both rebate programs (by name), active; names → programs."""
    existing = {p["name"]: p for p in gw.paginate("/api/v1/rebate-programs")}
    seeded = Seeded()
    programs: dict[str, dict[str, Any]] = {}
    for body in program_bodies(first_day):
        if body["name"] in existing:
            programs[body["name"]] = existing[body["name"]]
            seeded.existing += 1
        else:
            programs[body["name"]] = gw.post("/api/v1/rebate-programs", body)
            seeded.created += 1
    return programs, seeded


def ensure_alert_rules(gw: Gateway) -> tuple[dict[str, dict[str, Any]], Seeded]:
    """Both alert rules (by name); names → rules."""
    existing = {r["name"]: r for r in gw.paginate("/api/v1/alert-rules")}
    seeded = Seeded()
    rules: dict[str, dict[str, Any]] = {}
    for body in ALERT_RULES:
        if body["name"] in existing:
            rules[body["name"]] = existing[body["name"]]
            seeded.existing += 1
        else:
            rules[body["name"]] = gw.post("/api/v1/alert-rules", body)
            seeded.created += 1
    return rules, seeded


def ensure_webhook(gw: Gateway, url: str, secret_file: Path) -> tuple[str | None, str]:
    """A webhook to `url` for every alert event; (its secret if known, a line saying what
    happened). A refused loopback URL is reported, not fatal."""
    for hook in gw.paginate("/api/v1/webhooks"):
        if hook["url"] == url:
            secret = secret_file.read_text().strip() if secret_file.is_file() else None
            return secret, f"{url} already registered"
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    try:
        gw.post("/api/v1/webhooks", {"url": url, "secret": secret, "min_severity": "info"})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return None, (
            f"not registered: {exc}. alert-svc refuses loopback URLs unless "
            "ALERT_ALLOW_LOOPBACK_WEBHOOKS=true"
        )
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    return secret, f"{url} registered (secret in {secret_file})"


def wait_for(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 1.0,
) -> None:
    """Call `check` until it is true; CliError naming `what` after `timeout` seconds. A busy
    service (502/503/504 from the gateway) counts as "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
            last = "not there yet"
        except ApiError as exc:
            if exc.status not in BUSY:
                raise
            last = str(exc)
        if time.monotonic() > deadline:
            raise CliError(f"gave up after {timeout:.0f} s waiting for {what} ({last})")
        sleep(interval)
