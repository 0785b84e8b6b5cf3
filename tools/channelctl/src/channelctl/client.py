"""The gateway as channelctl sees it: an httpx client with the API key, problem+json answers
turned into one readable line, 429s waited out, and lists followed page by page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "DEFAULT_URL",
    "KEY_ENV",
    "KEY_FILE",
    "URL_ENV",
    "ApiError",
    "CliError",
    "Gateway",
    "GatewayUnreachableError",
    "describe_problem",
    "resolve_key",
]

DEFAULT_URL = "http://127.0.0.1:8000"
URL_ENV = "CHANNEL_URL"
KEY_ENV = "CHANNEL_KEY"
# Written by `make run`; used when no key is given, so the README tour needs no setup.
KEY_FILE = Path(".run") / "admin-key"
PAGE_LIMIT = 500
MAX_RATE_LIMIT_RETRIES = 8
MAX_RETRY_AFTER_SECONDS = 10.0


class CliError(Exception):
    """A failure shown as one line `error: …` with a non-zero exit code."""

    exit_code = 1


class ApiError(CliError):
    """The gateway or a service answered with an error status (exit code 1)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class GatewayUnreachableError(CliError):
    """No answer from the gateway: refused, reset or timed out (exit code 3)."""

    exit_code = 3


def resolve_key(key: str | None, *, cwd: Path | None = None) -> str:
    """The API key: the one given (option or CHANNEL_KEY), else `.run/admin-key` here."""
    if key:
        return key.strip()
    path = (cwd or Path.cwd()) / KEY_FILE
    try:
        stored = path.read_text(encoding="utf-8").strip()
    except OSError:
        stored = ""
    if stored:
        return stored
    raise CliError(
        f"no API key: pass --key, set {KEY_ENV}, or run from the repository root after "
        f"`make run` (which writes {KEY_FILE})"
    )


def describe_problem(response: httpx.Response) -> str:
    """One line for an error answer: `status title: detail field: message; …`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        text = " ".join(response.text.split())[:200]
        status = f"{response.status_code} {response.reason_phrase}".strip()
        return f"{status}: {text}" if text else status
    status = f"{response.status_code} {body.get('title') or response.reason_phrase}".strip()
    detail = " ".join(str(body.get("detail") or "").split())
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        listed = "; ".join(_describe_error(error) for error in errors)
        detail = f"{detail} {listed}" if detail else listed
    return f"{status}: {detail}" if detail else status


def _describe_error(error: Any) -> str:
    if not isinstance(error, Mapping):
        return str(error)
    loc = error.get("loc") or []
    where = ".".join(str(part) for part in loc if part != "body") if isinstance(loc, list) else ""
    message = str(error.get("msg") or "invalid")
    return f"{where}: {message}" if where else message


class Gateway:
    """A synchronous client of the gateway authenticated with an API key."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect lazily to `url`; `transport` replaces the network (tests)."""
        self.url = url.rstrip("/")
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": "channelctl"},
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            trust_env=False,
        )

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: Iterable[bytes] | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send a request and return the decoded JSON answer (None when empty); an error
        status raises ApiError, no answer raises GatewayUnreachableError."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            response = self._send(method, path, json, query, content, headers)
            # A 429 is refused before the request reaches a service, so sending again is safe;
            # a streamed body cannot be replayed.
            if response.status_code != 429 or attempt == MAX_RATE_LIMIT_RETRIES:
                break
            if content is not None and not isinstance(content, bytes):
                break
            self._sleep(_retry_after(response))
        if response.is_error:
            raise ApiError(response.status_code, describe_problem(response))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, Any],
        content: Iterable[bytes] | bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method, path, json=json, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise GatewayUnreachableError(
                f"the gateway at {self.url} did not answer in time ({method} {path})"
            ) from None
        except httpx.TransportError as exc:
            raise GatewayUnreachableError(
                f"cannot reach the gateway at {self.url} ({_reason(exc)}); "
                f"is `make run` running, or is --url / {URL_ENV} wrong?"
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        """GET `path` with query parameters."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        """POST a JSON body."""
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        """PUT a JSON body."""
        return self.request("PUT", path, json=body)

    def find(self, path: str) -> Any | None:
        """GET `path`, or None when it is 404."""
        try:
            return self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def paginate(self, path: str, *, limit: int | None = None, **params: Any) -> Iterator[Any]:
        """Every item of a list endpoint (or the first `limit`), following `next_cursor`."""
        cursor: str | None = None
        seen = 0
        while True:
            page_size = PAGE_LIMIT if limit is None else max(1, min(PAGE_LIMIT, limit - seen))
            page = self.get(path, limit=page_size, cursor=cursor, **params)
            for item in page.get("items", []):
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = page.get("next_cursor")
            if not cursor:
                return


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.1), MAX_RETRY_AFTER_SECONDS)


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    return text.split("] ", 1)[-1] if text else type(exc).__name__
