"""`channelctl kpis`: import CSV/NDJSON files (streamed, with progress) and read KPI series."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from .client import CliError, Gateway
from .context import gateway
from .display import console, number, table
from .partners import find_partner

__all__ = ["ImportSummary", "app", "import_file", "media_type_of", "rejects_path"]

app = typer.Typer(help="KPI figures: import files, read series.", no_args_is_help=True)

IMPORT_PATH = "/api/v1/observations:import"
CHUNK_BYTES = 64 * 1024
SHOWN_REJECTIONS = 20
# A partial import (some lines rejected) exits with this code, so scripts can tell.
PARTIAL_EXIT_CODE = 4


class FileFormat(StrEnum):
    """Import file formats."""

    CSV = "csv"
    NDJSON = "ndjson"


MEDIA_TYPES = {FileFormat.CSV: "text/csv", FileFormat.NDJSON: "application/x-ndjson"}
_SUFFIXES = {".csv": FileFormat.CSV, ".ndjson": FileFormat.NDJSON, ".jsonl": FileFormat.NDJSON}


@dataclass
class ImportSummary:
    """What the import answered, and where the rejected lines went."""

    accepted: int
    duplicates: int
    rejected_count: int
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejects_file: Path | None = None


def media_type_of(path: Path, given: FileFormat | None) -> str:
    """The content type to send: the given format, else the file's extension."""
    fmt = given or _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise CliError(
            f"cannot tell the format of {path.name}: name it .csv or .ndjson, or pass --format"
        )
    return MEDIA_TYPES[fmt]


def rejects_path(path: Path) -> Path:
    """Where the rejected lines of `path` go by default: `name.rejected.ext` beside it."""
    return path.with_name(f"{path.stem}.rejected{path.suffix or '.txt'}")


def _chunks(path: Path, progress: Progress | None) -> Iterator[bytes]:
    """The file in chunks, never whole in memory, advancing the progress bar as they go."""
    task = None if progress is None else progress.add_task("upload", total=path.stat().st_size)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
            if progress is not None and task is not None:
                progress.advance(task, len(chunk))


def import_file(
    gw: Gateway,
    path: Path,
    *,
    media_type: str,
    rejects: Path | None = None,
    show_progress: bool = True,
) -> ImportSummary:
    """Stream `path` to the import endpoint and write its rejected lines to `rejects`."""
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    headers = {"Content-Type": media_type}
    if show_progress:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=console(),
            transient=False,
        ) as progress:
            answer = gw.request(
                "POST", IMPORT_PATH, content=_chunks(path, progress), headers=headers
            )
    else:
        answer = gw.request("POST", IMPORT_PATH, content=_chunks(path, None), headers=headers)
    summary = ImportSummary(
        accepted=int(answer["accepted"]),
        duplicates=int(answer["duplicates"]),
        rejected_count=int(answer.get("rejected_count", len(answer["rejected"]))),
        rejected=list(answer["rejected"]),
    )
    if summary.rejected:
        target = rejects or rejects_path(path)
        write_rejected_lines(path, target, summary.rejected, keep_header=media_type == "text/csv")
        summary.rejects_file = target
    return summary


def write_rejected_lines(
    source: Path, target: Path, rejected: list[dict[str, Any]], *, keep_header: bool
) -> None:
    """Copy the rejected lines (1-based numbers) of `source` to `target`, in the same format;
    a CSV keeps its header so the file can be fixed and imported again."""
    wanted = {int(r["index"]) for r in rejected}
    header_done = not keep_header
    with source.open("rb") as lines, target.open("wb") as out:
        for number, line in enumerate(lines, start=1):
            if not header_done and line.strip():
                header_done = True
                out.write(line if line.endswith(b"\n") else line + b"\n")
                continue
            if number in wanted:
                out.write(line if line.endswith(b"\n") else line + b"\n")


def print_summary(summary: ImportSummary) -> None:
    """The accepted / duplicate / rejected counts and the first rejections."""
    out = console()
    out.print(
        f"accepted [bold green]{summary.accepted}[/], duplicates [bold]{summary.duplicates}[/], "
        f"rejected [bold red]{summary.rejected_count}[/]"
    )
    if not summary.rejected:
        return
    shown = summary.rejected[:SHOWN_REJECTIONS]
    out.print(
        table(
            None,
            [
                ("Line", lambda r: str(r["index"])),
                ("Code", lambda r: str(r["code"])),
                ("Detail", lambda r: str(r["detail"])),
            ],
            shown,
        )
    )
    more = summary.rejected_count - len(shown)
    if more > 0:
        out.print(f"… and {more} more")
    if summary.rejects_file is not None:
        listed = len(summary.rejected)
        note = "" if listed == summary.rejected_count else f" (the {listed} the server listed)"
        out.print(f"rejected lines written to {summary.rejects_file}{note}")


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV (with header) or NDJSON file.")],
    file_format: Annotated[
        FileFormat | None, typer.Option("--format", help="Default: from the extension.")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where to write rejected lines [default: FILE.rejected.ext]."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Import observations from a file, streamed; rejected lines go to a file of their own.

    Exit code 0 when every line was accepted or a duplicate, 4 when some were rejected."""
    media_type = media_type_of(file, file_format)
    with gateway(ctx) as gw:
        summary = import_file(
            gw, file, media_type=media_type, rejects=rejects, show_progress=progress
        )
    print_summary(summary)
    if summary.rejected_count:
        raise typer.Exit(PARTIAL_EXIT_CODE)


@app.command("series")
def series_command(
    ctx: typer.Context,
    kpi: Annotated[str, typer.Argument(help="KPI key, e.g. sales_amount.")],
    partner: Annotated[str | None, typer.Option(help="One partner (code or id).")] = None,
    tier: Annotated[str | None, typer.Option(help="Partners of this tier.")] = None,
    region: Annotated[str | None, typer.Option(help="Partners in this region.")] = None,
    granularity: Annotated[str, typer.Option(help="day, week, month, quarter or year.")] = "month",
    first: Annotated[str | None, typer.Option("--from", help="First period, e.g. 2026-01.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last period.")] = None,
) -> None:
    """A KPI's value per period for a partner, tier, region or everyone."""
    with gateway(ctx) as gw:
        partner_id = find_partner(gw, partner)["id"] if partner else None
        points = gw.get(
            f"/api/v1/kpis/{kpi}/series",
            partner_id=partner_id,
            tier=tier,
            region=region,
            granularity=granularity,
            **{"from": first, "to": last},
        )
    rows: list[Mapping[str, Any]] = points if isinstance(points, list) else points.get("items", [])
    who = partner or tier or region or "all partners"
    console().print(
        table(
            f"{kpi} by {granularity} — {who}",
            [
                ("Period", lambda p: str(p["period"])),
                ("Value", lambda p: number(p["value"])),
                ("Observations", lambda p: str(p["count"])),
            ],
            rows,
        )
    )
