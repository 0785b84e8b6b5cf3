"""Authentication at the edge, before routing: an API key (`csk_…`) is exchanged for a minted
JWT, a JWT is verified and passed on unchanged; then the principal's rate limit applies and the
`Authorization` header is rewritten to the JWT, so the gateway's own routes and every upstream
verify the same token the same way."""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from channel_common import (
    JWTVerifier,
    Principal,
    UnauthorizedError,
    parse_traceparent,
    problem_response,
)
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .keycache import ApiKeyCache
from .ratelimit import RateLimiter
from .service import authenticate_api_key
from .settings import API_KEY_PREFIX
from .tokens import API_KEY_SUBJECT_PREFIX, TokenMinter

__all__ = ["PUBLIC_PATHS", "GatewayAuthMiddleware", "ensure_traceparent"]

PUBLIC_PATHS = frozenset(
    {
        "/livez",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/asyncapi.json",
        "/docs",
        "/docs/oauth2-redirect",
    }
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
log = structlog.get_logger(__name__)


def ensure_traceparent(scope: Scope) -> str | None:
    """Give the request a W3C `traceparent` when it has no valid one; the new trace id, if any.

    An invalid traceparent restarts the trace, and its `tracestate` goes with it (W3C §3.3).
    """
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    current = next((v for k, v in headers if k == b"traceparent"), None)
    if current is not None and parse_traceparent(current.decode("latin-1")) is not None:
        return None
    trace_id = secrets.token_hex(16)
    value = f"00-{trace_id}-{secrets.token_hex(8)}-01".encode()
    kept = [(k, v) for k, v in headers if k not in (b"traceparent", b"tracestate")]
    scope["headers"] = [*kept, (b"traceparent", value)]
    return trace_id


class GatewayAuthMiddleware:
    """401 without valid credentials, 429 over the rate limit; public paths pass untouched."""

    def __init__(
        self, app: ASGIApp, *, minter: TokenMinter, limiter: RateLimiter, keys: ApiKeyCache
    ) -> None:
        self.app = app
        self.minter = minter
        self.limiter = limiter
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        new_trace_id = ensure_traceparent(scope)
        context = {"trace_id": new_trace_id} if new_trace_id else {}
        with structlog.contextvars.bound_contextvars(**context):
            if scope["path"] in PUBLIC_PATHS:
                await self.app(scope, receive, send)
                return
            outcome = await self._authenticate(scope)
            if isinstance(outcome, Response):
                await outcome(scope, receive, send)
                return
            principal, token = outcome
            retry_after = self.limiter.acquire(principal.key)
            if retry_after is not None:
                log.info("rate_limited", principal=principal.subject, retry_after=retry_after)
                response = _problem(
                    429,
                    f"Rate limit exceeded; retry in {retry_after} s.",
                    {"Retry-After": str(retry_after)},
                    code="rate-limited",
                )
                await response(scope, receive, send)
                return
            kept = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope["headers"] = [*kept, (b"authorization", f"Bearer {token}".encode())]
            scope.setdefault("state", {})["principal"] = principal
            await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[Principal, str] | Response:
        """The principal and the JWT to forward, or the 401/503 answer."""
        header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _unauthorized(scope, "A bearer token is required.", "missing")
        state: Any = scope["app"].state
        if token.startswith(API_KEY_PREFIX):
            try:
                api_key = await authenticate_api_key(state.sessions, secret=token, keys=self.keys)
            except SQLAlchemyError:
                log.exception("api_key_lookup_failed")
                detail = "Credentials cannot be checked right now."
                return _problem(503, detail, {"Retry-After": "5"})
            if api_key is None:
                return _unauthorized(scope, "Unknown or revoked API key.", "unknown_api_key")
            principal = Principal(
                subject=f"{API_KEY_SUBJECT_PREFIX}{api_key.id}",
                scopes=frozenset(api_key.scope_list),
                partner_id=api_key.partner_id,
            )
            return principal, self.minter.token_for(api_key)
        verifier: JWTVerifier = state.verifier
        try:
            verified: Principal = verifier.verify(token)
            return verified, token
        except UnauthorizedError as exc:
            return _unauthorized(scope, exc.detail, "invalid_jwt")


def _unauthorized(scope: Scope, detail: str, reason: str) -> Response:
    log.info("auth_rejected", reason=reason, method=scope["method"], path=scope["path"])
    return _problem(401, detail, _CHALLENGE)


def _problem(
    status: int, detail: str, headers: dict[str, str], code: str | None = None
) -> Response:
    response: Response = problem_response(status, detail, code=code, headers=headers)
    return response
