"""A verified token is trusted until it expires, and not a moment longer."""

from __future__ import annotations

import time

import jwt
import pytest
from channel_common import JWTVerifier, UnauthorizedError, issue_token

KEY = "k" * 32
CLAIMS = {"algorithm": "HS256", "issuer": "iss", "audience": "aud"}


def verifier() -> JWTVerifier:
    return JWTVerifier(key=KEY, leeway=0, **CLAIMS)


def test_a_verified_token_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    check = verifier()
    token = issue_token(key=KEY, subject="s", scopes=["admin"], ttl_seconds=60, **CLAIMS)
    first = check.verify(token)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(jwt, "decode", refuse)
    assert check.verify(token) is first
    with pytest.raises(AssertionError, match="decoded again"):
        check.verify(issue_token(key=KEY, subject="other", scopes=[], **CLAIMS))


def test_a_verified_token_is_refused_once_expired() -> None:
    check = verifier()
    token = issue_token(key=KEY, subject="s", scopes=[], ttl_seconds=1, **CLAIMS)
    assert check.verify(token).subject == "s"
    time.sleep(2.1)
    with pytest.raises(UnauthorizedError, match="expired"):
        check.verify(token)
