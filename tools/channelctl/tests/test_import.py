"""`channelctl kpis import`: the file is streamed in chunks, the answer summarised, and the
rejected lines written to a file of their own, in the same format."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from channelctl.kpis import CHUNK_BYTES, PARTIAL_EXIT_CODE

PARTNER_ID = "7d3c1a8e-0000-4000-8000-000000000001"
HEADER = "partner_id,kpi,value,occurred_on"


def csv_file(path: Path, rows: int) -> Path:
    lines = [HEADER] + [f"{PARTNER_ID},sales_amount,{100 + i}.50,2026-10-15" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


class FakeImport(httpx.BaseTransport):
    """The import endpoint: records the chunks as they arrive (a MockTransport would read the
    whole body first) and answers with the given rejections."""

    def __init__(self, rejected: list[dict[str, object]] | None = None) -> None:
        self.rejected = rejected or []
        self.chunks: list[bytes] = []
        self.headers: httpx.Headers | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/api/v1/observations:import"
        self.headers = request.headers
        assert isinstance(request.stream, httpx.SyncByteStream)
        self.chunks = list(request.stream)
        lines = b"".join(self.chunks).count(b"\n") - 1
        body = {
            "accepted": lines - len(self.rejected) - 1,
            "duplicates": 1,
            "rejected": self.rejected,
            "rejected_count": len(self.rejected),
            "batch_id": "0b1c0000-0000-4000-8000-000000000000",
        }
        return httpx.Response(200, content=json.dumps(body).encode())


class TestImport:
    def test_the_file_is_streamed_in_chunks_never_whole(self, cli, tmp_path: Path) -> None:
        path = csv_file(tmp_path / "big.csv", 5000)
        assert path.stat().st_size > 3 * CHUNK_BYTES
        fake = FakeImport()
        result = cli(["--key", "k", "kpis", "import", str(path)], fake, cwd=tmp_path)
        assert result.exit_code == 0, result.output
        assert len(fake.chunks) >= 4
        assert max(len(chunk) for chunk in fake.chunks) <= CHUNK_BYTES
        assert b"".join(fake.chunks) == path.read_bytes()
        assert fake.headers is not None
        assert fake.headers["content-type"] == "text/csv"
        assert fake.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in fake.headers

    def test_summary_counts_and_rejected_lines_in_a_file(self, cli, tmp_path: Path) -> None:
        path = csv_file(tmp_path / "october.csv", 6)
        rejected = [
            {"index": 3, "code": "out_of_range", "detail": "value must be at least 0."},
            {"index": 6, "code": "unknown_partner", "detail": "Partner not known."},
        ]
        result = cli(
            ["--key", "k", "kpis", "import", str(path)], FakeImport(rejected), cwd=tmp_path
        )
        assert result.exit_code == PARTIAL_EXIT_CODE
        assert "accepted 3, duplicates 1, rejected 2" in result.stdout
        assert "out_of_range" in result.stdout and "unknown_partner" in result.stdout
        rejects = tmp_path / "october.rejected.csv"
        assert f"rejected lines written to {rejects}" in result.stdout
        source = path.read_text().splitlines()
        assert rejects.read_text().splitlines() == [HEADER, source[2], source[5]]

    def test_ndjson_rejects_go_where_asked_without_a_header(self, cli, tmp_path: Path) -> None:
        path = tmp_path / "feed.jsonl"
        lines = [json.dumps({"partner_id": PARTNER_ID, "kpi": "units_sold", "value": i,
                             "occurred_on": "2026-10-01"}) for i in range(4)]  # fmt: skip
        path.write_text("\n".join(lines) + "\n")
        target = tmp_path / "out" / "bad.ndjson"
        target.parent.mkdir()
        fake = FakeImport([{"index": 2, "code": "invalid_line", "detail": "not JSON"}])
        result = cli(
            ["--key", "k", "kpis", "import", str(path), "--rejects", str(target), "--no-progress"],
            fake,
            cwd=tmp_path,
        )
        assert result.exit_code == PARTIAL_EXIT_CODE
        assert fake.headers is not None
        assert fake.headers["content-type"] == "application/x-ndjson"
        assert target.read_text() == lines[1] + "\n"

    def test_a_clean_import_exits_0_and_writes_no_rejects(self, cli, tmp_path: Path) -> None:
        path = csv_file(tmp_path / "clean.csv", 3)
        result = cli(["--key", "k", "kpis", "import", str(path)], FakeImport(), cwd=tmp_path)
        assert result.exit_code == 0, result.output
        assert "accepted 2, duplicates 1, rejected 0" in result.stdout
        assert not (tmp_path / "clean.rejected.csv").exists()

    def test_an_unknown_extension_needs_format(self, cli, tmp_path: Path) -> None:
        path = tmp_path / "figures.txt"
        path.write_text(HEADER + "\n")
        result = cli(["--key", "k", "kpis", "import", str(path)], FakeImport(), cwd=tmp_path)
        assert result.exit_code == 1
        assert "cannot tell the format of figures.txt" in result.stderr
        forced = cli(
            ["--key", "k", "kpis", "import", str(path), "--format", "csv"],
            FakeImport(),
            cwd=tmp_path,
        )
        assert forced.exit_code == 0, forced.output

    def test_a_refused_import_is_one_line(self, cli, tmp_path: Path) -> None:
        path = csv_file(tmp_path / "bad-header.csv", 1)

        def handler(_request: httpx.Request) -> httpx.Response:
            body = {
                "title": "Unprocessable Content",
                "status": 422,
                "detail": "The CSV header is not usable.",
                "errors": [{"loc": ["body", "line", 1], "msg": "missing: ['kpi']"}],
            }
            return httpx.Response(422, json=body)

        result = cli(["--key", "k", "kpis", "import", str(path)], handler, cwd=tmp_path)
        assert result.exit_code == 1
        assert result.stderr == (
            "error: 422 Unprocessable Content: The CSV header is not usable. "
            "line.1: missing: ['kpi']\n"
        )
