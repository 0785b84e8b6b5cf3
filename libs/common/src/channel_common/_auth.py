"""JWT verification, scopes and partner binding; the gateway mints the tokens services verify."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ._errors import ForbiddenError, NotFoundError, UnauthorizedError
from ._settings import BaseServiceSettings

__all__ = [
    "SCOPES",
    "JWTVerifier",
    "Principal",
    "bound_partner_filter",
    "ensure_partner_visible",
    "issue_token",
    "refuse_partner_bound",
    "require_scopes",
]

SCOPES = (
    "partners:read",
    "partners:write",
    "kpis:read",
    "kpis:write",
    "rebates:read",
    "rebates:write",
    "rebates:approve",
    "alerts:read",
    "alerts:write",
    "admin",
)
_bearer = HTTPBearer(auto_error=False, description="A JWT, or an API key at the gateway.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# Verified tokens kept per process (the gateway reuses one token per key for half its life).
_VERIFIED_MAX = 4096


@dataclass(frozen=True)
class Principal:
    """Who is calling: a subject, its scopes and, for a partner portal, its partner."""

    subject: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    partner_id: uuid.UUID | None = None

    def has_scope(self, scope: str) -> bool:
        """Whether the principal holds `scope` (admin holds every scope)."""
        return scope in self.scopes or "admin" in self.scopes

    @property
    def key(self) -> str:
        """A stable identity for per-principal state (idempotency keys, rate limits)."""
        return self.subject


class JWTVerifier:
    """Verifies signature, `exp`, `iss` and `aud` with one pinned algorithm."""

    def __init__(
        self,
        *,
        key: str,
        algorithm: str,
        issuer: str,
        audience: str,
        leeway: int,
        previous_key: str | None = None,
    ) -> None:
        # The previous key is tried only for a bad signature: a rotation's grace period.
        self._keys = (key,) if previous_key is None else (key, previous_key)
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        # token -> (its principal, when the signature check would refuse it: exp + leeway)
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_settings(cls, settings: BaseServiceSettings) -> JWTVerifier:
        """A verifier configured from the service settings."""
        return cls(
            key=settings.jwt_key.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway=settings.jwt_leeway_seconds,
            previous_key=(
                None
                if settings.jwt_previous_key is None
                else settings.jwt_previous_key.get_secret_value()
            ),
        )

    def verify(self, token: str) -> Principal:
        """The principal a valid token names; UnauthorizedError otherwise. A token verified
        once is trusted until it expires (a token cannot change; the check cost ~5 % of a read)."""
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        try:
            claims = self._decode(token)
            partner = claims.get("partner_id")
            principal = Principal(
                subject=str(claims["sub"]),
                scopes=frozenset(str(claims.get("scope", "")).split()),
                partner_id=uuid.UUID(partner) if partner else None,
            )
            expires = float(claims["exp"]) + self._leeway
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise UnauthorizedError(f"Invalid token: {exc}", headers=_CHALLENGE) from exc
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        *current, last = self._keys
        for key in current:
            try:
                return self._decode_with(token, key)
            except jwt.InvalidSignatureError:
                continue
        return self._decode_with(token, last)

    def _decode_with(self, token: str, key: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            key,
            algorithms=[self._algorithm],
            audience=self._audience,
            issuer=self._issuer,
            leeway=self._leeway,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )


def issue_token(
    *,
    key: str,
    algorithm: str,
    issuer: str,
    audience: str,
    subject: str,
    scopes: Iterable[str],
    partner_id: uuid.UUID | str | None = None,
    ttl_seconds: int = 300,
) -> str:
    """Sign a short-lived token for `subject` (the gateway's API-key exchange, and tests)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "scope": " ".join(sorted(set(scopes))),
    }
    if partner_id is not None:
        claims["partner_id"] = str(partner_id)
    return jwt.encode(claims, key, algorithm=algorithm)


async def _current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthorizedError("A bearer token is required.", headers=_CHALLENGE)
    verifier: JWTVerifier = request.app.state.verifier
    return verifier.verify(credentials.credentials)


def require_scopes(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency giving the principal, 403 unless it holds every scope in `scopes`."""

    async def dependency(
        principal: Annotated[Principal, Depends(_current_principal)],
    ) -> Principal:
        missing = [s for s in scopes if not principal.has_scope(s)]
        if missing:
            raise ForbiddenError(f"Missing scope: {' '.join(missing)}.")
        return principal

    return dependency


def ensure_partner_visible(principal: Principal, partner_id: uuid.UUID, what: str) -> None:
    """404 when a partner-bound principal asks for another partner's resource."""
    if principal.partner_id is not None and principal.partner_id != partner_id:
        raise NotFoundError(f"{what} not found.")


def refuse_partner_bound(principal: Principal, action: str, *, verb: str = "may not") -> None:
    """403 for a partner-bound principal (a partner portal): the action is the channel team's."""
    if principal.partner_id is not None:
        raise ForbiddenError(f"A partner-bound principal {verb} {action}.")


def bound_partner_filter(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """The partner a list must be restricted to: the bound partner, else what was asked."""
    if principal.partner_id is None:
        return requested
    if requested is not None and requested != principal.partner_id:
        raise NotFoundError("Partner not found.")
    return principal.partner_id
