"""The gateway client and how channelctl reports failures: one line, a non-zero exit code."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from channelctl.client import ApiError, Gateway, describe_problem

PARTNER = {
    "id": "7d3c1a8e-0000-4000-8000-000000000001",
    "code": "GD-001",
    "name": "Guangdong Dist",
    "type": "distributor",
    "tier": "gold",
    "region": "CN-GD",
    "status": "prospect",
    "parent_id": None,
}


def problem(status: int, title: str, detail: str, **extra: object) -> httpx.Response:
    body = {"type": "urn:channel-suite:problem:x", "title": title, "status": status}
    body |= {"detail": detail, **extra}
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


class TestDescribeProblem:
    def test_status_title_and_detail_on_one_line(self) -> None:
        response = problem(409, "Conflict", "A partner with code 'GD-001' exists already.")
        assert describe_problem(response) == (
            "409 Conflict: A partner with code 'GD-001' exists already."
        )

    def test_validation_errors_name_their_field(self) -> None:
        response = problem(
            422,
            "Unprocessable Content",
            "The request is invalid; see errors.",
            errors=[
                {"loc": ["body", "region"], "msg": "String should match pattern"},
                {"loc": ["query", "limit"], "msg": "must be at most 500"},
            ],
        )
        assert describe_problem(response) == (
            "422 Unprocessable Content: The request is invalid; see errors. "
            "region: String should match pattern; query.limit: must be at most 500"
        )

    def test_a_body_that_is_not_json_is_shortened_to_one_line(self) -> None:
        response = httpx.Response(502, text="<html>\n<b>Bad gateway</b>\n" + "x" * 500)
        line = describe_problem(response)
        assert line.startswith("502 Bad Gateway: <html> <b>Bad gateway</b>")
        assert "\n" not in line
        assert len(line) < 250


class TestGateway:
    def test_follows_next_cursor_through_every_page(self) -> None:
        cursors: list[str | None] = []

        def handler(request: httpx.Request) -> httpx.Response:
            cursor = request.url.params.get("cursor")
            cursors.append(cursor)
            if cursor is None:
                return httpx.Response(200, json={"items": [1, 2], "next_cursor": "c2"})
            return httpx.Response(200, json={"items": [3], "next_cursor": None})

        gw = Gateway("http://gw", "csk_x", transport=httpx.MockTransport(handler))
        assert list(gw.paginate("/api/v1/partners")) == [1, 2, 3]
        assert cursors == [None, "c2"]

    def test_a_429_is_waited_out_for_its_retry_after(self) -> None:
        answers = [
            httpx.Response(429, headers={"Retry-After": "2"}, json={"status": 429}),
            httpx.Response(200, json={"ok": True}),
        ]
        slept: list[float] = []
        gw = Gateway(
            "http://gw",
            "csk_x",
            transport=httpx.MockTransport(lambda _r: answers.pop(0)),
            sleep=slept.append,
        )
        assert gw.get("/api/v1/partners") == {"ok": True}
        assert slept == [2.0]

    def test_an_error_status_raises_with_the_status(self) -> None:
        gw = Gateway(
            "http://gw",
            "csk_x",
            transport=httpx.MockTransport(
                lambda _r: problem(404, "Not Found", "Partner not found.")
            ),
        )
        with pytest.raises(ApiError) as caught:
            gw.get("/api/v1/partners/x")
        assert caught.value.status == 404
        assert gw.find("/api/v1/partners/x") is None


class TestCommandErrors:
    def test_an_api_error_is_one_line_on_stderr_and_exit_code_1(self, cli, tmp_path: Path) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            assert request.url.path == "/api/v1/partners"
            return problem(409, "Conflict", "A partner with code 'GD-001' exists already.")

        result = cli(
            ["--key", "csk_test", "partners", "create", "GD-001", "Guangdong Dist",
             "--type", "distributor", "--region", "CN-GD"],
            handler, cwd=tmp_path,
        )  # fmt: skip
        assert result.exit_code == 1
        assert (
            result.stderr == "error: 409 Conflict: A partner with code 'GD-001' exists already.\n"
        )
        assert result.stdout == ""

    def test_an_unreachable_gateway_exits_3_and_says_where(self, cli, tmp_path: Path) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

        result = cli(
            ["--url", "http://127.0.0.1:9", "--key", "k", "alerts", "list"], handler, cwd=tmp_path
        )
        assert result.exit_code == 3
        assert result.stderr.startswith(
            "error: cannot reach the gateway at http://127.0.0.1:9 (Connection refused)"
        )
        assert result.stderr.count("\n") == 1

    def test_without_a_key_it_says_how_to_give_one(self, cli, tmp_path: Path) -> None:
        result = cli(["partners", "list"], lambda _r: httpx.Response(500), cwd=tmp_path)
        assert result.exit_code == 1
        assert "no API key: pass --key, set CHANNEL_KEY" in result.stderr

    def test_the_key_of_make_run_is_used_when_none_is_given(self, cli, tmp_path: Path) -> None:
        (tmp_path / ".run").mkdir()
        (tmp_path / ".run" / "admin-key").write_text("csk_from_file\n")
        seen: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request.headers["Authorization"])
            return httpx.Response(200, json={"items": [PARTNER], "next_cursor": None})

        result = cli(["partners", "list"], handler, cwd=tmp_path)
        assert result.exit_code == 0, result.output
        assert seen == ["Bearer csk_from_file"]
        assert "GD-001" in result.stdout

    def test_the_environment_wins_over_the_key_file(self, cli, tmp_path: Path) -> None:
        (tmp_path / ".run").mkdir()
        (tmp_path / ".run" / "admin-key").write_text("csk_from_file\n")
        seen: list[tuple[str, str]] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append((str(request.url.host), request.headers["Authorization"]))
            return httpx.Response(200, json={"items": [], "next_cursor": None})

        result = cli(
            ["alerts", "list"],
            handler,
            cwd=tmp_path,
            env={"CHANNEL_KEY": "csk_env", "CHANNEL_URL": "http://gw.example:8000"},
        )
        assert result.exit_code == 0, result.output
        assert seen == [("gw.example", "Bearer csk_env")]

    def test_a_partner_that_does_not_exist_is_named(self, cli, tmp_path: Path) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            assert request.url.path == "/api/v1/partners/by-code/NOPE"
            return problem(404, "Not Found", "Partner not found.")

        result = cli(["--key", "k", "partners", "show", "NOPE"], handler, cwd=tmp_path)
        assert result.exit_code == 1
        assert result.stderr == "error: no partner with code or id 'NOPE'\n"

    def test_create_sends_the_partner_and_activates_it(self, cli, tmp_path: Path) -> None:
        sent: list[tuple[str, dict[str, object]]] = []

        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            sent.append((request.url.path, body))
            status = body.get("to", "prospect")
            return httpx.Response(201, json={**PARTNER, "status": status})

        result = cli(
            ["--key", "k", "partners", "create", "GD-001", "Guangdong Dist", "--type",
             "distributor", "--region", "CN-GD", "--tier", "gold", "--capital", "20000000",
             "--years", "8", "--staff", "30", "--activate"],
            handler, cwd=tmp_path,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert [path for path, _ in sent] == [
            "/api/v1/partners",
            f"/api/v1/partners/{PARTNER['id']}/transitions",
            f"/api/v1/partners/{PARTNER['id']}/transitions",
        ]
        assert sent[0][1]["qualification"] == {
            "registered_capital": "20000000",
            "years_in_business": 8,
            "service_staff": 30,
        }
        assert [body["to"] for _, body in sent[1:]] == ["onboarding", "active"]
        assert "created GD-001" in result.stdout and "active" in result.stdout
