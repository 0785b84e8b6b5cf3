"""S2: missing, expired, `alg: none`, wrong `aud`/`iss`, badly signed tokens and a revoked API
key are refused with 401 on every protected operation — at each service and at the gateway."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections import Counter
from typing import Any

import httpx
import jwt
from battery_support import report
from channel_common.testing import TEST_JWT_KEY, bearer
from inprocess.conftest import Started
from inprocess.operations import PUBLIC_PATHS, Operation, operations
from inprocess.suite import SERVICES

ADMIN_KEY = "csk_battery-bootstrap-admin-key-0123456789"
UPSTREAMS = ("partner", "kpi", "rebate", "alert")


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "mallory",
        "iss": "channel-suite",
        "aud": "channel-suite",
        "iat": now,
        "exp": now + 300,
        "scope": "admin",
    }
    return {k: v for k, v in (claims | overrides).items() if v is not None}


def _signed(key: str = TEST_JWT_KEY, algorithm: str = "HS256", **overrides: Any) -> str:
    with warnings.catch_warnings():  # HS512 with the test key is short: that is not the point
        warnings.simplefilter("ignore")
        return jwt.encode(_claims(**overrides), key, algorithm=algorithm)


def bad_credentials() -> dict[str, dict[str, str]]:
    """Authorization headers that must all be refused (an admin scope is claimed in each)."""
    good = _signed()
    head, body, signature = good.split(".")
    upgraded = _b64(_claims(sub="mallory-2"))
    return {
        "missing": {},
        "empty_bearer": {"Authorization": "Bearer "},
        "basic_scheme": {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "expired": {"Authorization": f"Bearer {_signed(exp=int(time.time()) - 120)}"},
        "no_exp": {"Authorization": f"Bearer {_signed(exp=None)}"},
        "not_yet_valid": {"Authorization": f"Bearer {_signed(nbf=int(time.time()) + 600)}"},
        "alg_none": {"Authorization": f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{body}."},
        "alg_none_signed": {
            "Authorization": f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{body}.{signature}"
        },
        "wrong_audience": {"Authorization": f"Bearer {_signed(aud='other-system')}"},
        "no_audience": {"Authorization": f"Bearer {_signed(aud=None)}"},
        "wrong_issuer": {"Authorization": f"Bearer {_signed(iss='evil-issuer')}"},
        "no_subject": {"Authorization": f"Bearer {_signed(sub=None)}"},
        "wrong_key": {"Authorization": f"Bearer {_signed(key='another-key-' + '0' * 32)}"},
        "other_algorithm": {"Authorization": f"Bearer {_signed(algorithm='HS512')}"},
        "tampered_payload": {"Authorization": f"Bearer {head}.{upgraded}.{signature}"},
        "stripped_signature": {"Authorization": f"Bearer {head}.{body}."},
        "unknown_api_key": {"Authorization": "Bearer csk_never-issued-0123456789abcdef"},
    }


async def _refusals(
    client: httpx.AsyncClient, ops: list[Operation], credentials: dict[str, dict[str, str]]
) -> tuple[int, Counter[str]]:
    """Send every credential to every protected operation; (requests, non-401 answers)."""
    sent, wrong = 0, Counter[str]()
    for operation in ops:
        for name, headers in credentials.items():
            body = operation.body()
            response = await client.request(
                operation.method,
                operation.url(),
                headers={**body.pop("headers", {}), **headers},
                **body,
            )
            sent += 1
            ok = response.status_code == 401 and response.headers.get("www-authenticate")
            if not ok or response.headers["content-type"] != "application/problem+json":
                wrong[f"{operation.label} {name} → {response.status_code}"] += 1
    return sent, wrong


async def test_every_protected_operation_refuses_bad_tokens(started: Started) -> None:
    credentials = bad_credentials()
    sent, protected, public = 0, 0, set()
    wrong: Counter[str] = Counter()
    for name in SERVICES:
        async with (
            started(name, bootstrap_admin_key=ADMIN_KEY)
            if name == "gateway"
            else (started(name)) as (svc, client)
        ):
            ops = operations(svc.app)
            guarded = [op for op in ops if op.protected]
            public |= {op.path for op in ops if not op.protected and "{path" not in op.path}
            protected += len(guarded)
            count, found = await _refusals(client, guarded, credentials)
            sent += count
            wrong += found
            # The same token, well formed, is accepted: the refusals above are about the flaw.
            ok = await client.get(guarded[0].url(), headers=bearer(svc.settings, ["admin"]))
            assert ok.status_code != 401, ok.text
    figures = report(
        "S2",
        part="services",
        protected_operations=protected,
        credential_kinds=len(credentials),
        requests=sent,
        not_401=sum(wrong.values()),
    )
    assert not wrong, "\n".join(sorted(wrong))
    # Health, metrics and API documents only (the AsyncAPI document is documentation too).
    assert public <= PUBLIC_PATHS | {"/docs/oauth2-redirect", "/asyncapi.json"}, public
    assert figures["requests"] == protected * len(credentials) and protected >= 55


async def test_the_gateway_refuses_bad_tokens_and_revoked_keys_on_every_route(
    started: Started,
) -> None:
    upstream_ops: list[Operation] = []
    for name in UPSTREAMS:
        async with started(name) as (svc, _client):
            upstream_ops += [op for op in operations(svc.app) if op.protected]
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with started("gateway", bootstrap_admin_key=ADMIN_KEY) as (gateway, client):
        gateway_ops = [op for op in operations(gateway.app) if op.protected]
        created = await client.post(
            "/api/v1/api-keys", json={"name": "to revoke", "scopes": ["admin"]}, headers=admin
        )
        assert created.status_code == 201, created.text
        key = created.json()
        revoked = {"Authorization": f"Bearer {key['key']}"}
        before = await client.get("/api/v1/api-keys", headers=revoked)
        assert before.status_code == 200, before.text
        deleted = await client.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
        assert deleted.status_code == 204, deleted.text
        credentials = bad_credentials() | {"revoked_api_key": revoked}
        ops = upstream_ops + gateway_ops
        sent, wrong = await _refusals(client, ops, credentials)
    figures = report(
        "S2",
        part="gateway",
        operations=len(ops),
        credential_kinds=len(credentials),
        requests=sent,
        not_401=sum(wrong.values()),
    )
    assert not wrong, "\n".join(sorted(wrong))
    assert figures["requests"] == len(ops) * len(credentials) and len(ops) >= 59
