"""Generate or check the TypeScript client for frontend teams (``make clients``).

``python scripts/clients.py`` merges the committed OpenAPI snapshots (``contracts/openapi/``) with
the gateway's own merge function -- the document the gateway serves at ``/openapi.json`` when
every service is up -- writes it to ``clients/typescript/openapi.json``, and runs
openapi-typescript (npm) to write ``clients/typescript/src/schema.d.ts``. No service runs.

``python scripts/clients.py --check`` writes nothing and exits 1 naming every stale file.

The npm tools come from ``clients/typescript/node_modules``, installed with ``npm ci`` (exactly
``package-lock.json``) when it is missing or holds other versions.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.docs import MERGED_TITLE
from gateway.openapi_merge import merge_documents
from gateway.proxy import ROUTES, service_for_path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = ROOT / "contracts"
CLIENT_DIR = ROOT / "clients" / "typescript"
# Generated files, relative to the client folder.
OPENAPI_FILE = Path("openapi.json")
SCHEMA_FILE = Path("src", "schema.d.ts")
GENERATED = (OPENAPI_FILE, SCHEMA_FILE)
FIX = "run `make clients` and commit clients/typescript/"
NPM_TIMEOUT_SECONDS = 300

Document = dict[str, Any]


class ClientGenerationError(RuntimeError):
    """An npm step failed; the message carries its output."""


def render(doc: Document) -> str:
    """The canonical, deterministic text of a JSON document (as ``contracts.py`` writes it)."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def merged_document(contracts_dir: Path = CONTRACTS_DIR) -> Document:
    """The gateway's merged OpenAPI document, built from the committed snapshots."""
    snapshots = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((contracts_dir / "openapi").glob("*.json"))
    }
    own = snapshots.pop("gateway")
    known = {service for _prefix, service in ROUTES}
    upstreams: dict[str, Document] = {}
    for name, doc in snapshots.items():
        service = name.removesuffix("-svc")
        if service not in known:
            raise ValueError(f"contracts/openapi/{name}.json: the gateway routes to no {service!r}")
        upstreams[service] = doc
    return merge_documents(
        own,
        upstreams,
        routes_to=lambda service, path: service_for_path(path) == service,
        title=MERGED_TITLE,
    )


def _run(command: Sequence[str], *, cwd: Path) -> None:
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        list(command),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise ClientGenerationError(f"`{' '.join(command)}` failed:\n{output}")


def _locked_versions(lockfile: Path) -> dict[str, str] | None:
    """Package path -> version of an npm lockfile (the root entry left out); None if absent."""
    try:
        packages = json.loads(lockfile.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError):
        return None
    return {path: entry.get("version", "") for path, entry in packages.items() if path}


def node_modules(client_dir: Path = CLIENT_DIR) -> Path:
    """The client's ``node_modules``; ``npm ci`` (re)installs it unless it holds exactly what
    ``package-lock.json`` locks (npm records what it installed in ``.package-lock.json``)."""
    modules = client_dir / "node_modules"
    wanted = _locked_versions(client_dir / "package-lock.json")
    if wanted is None or _locked_versions(modules / ".package-lock.json") != wanted:
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=client_dir)
    return modules


def npm_tool(name: str, client_dir: Path = CLIENT_DIR) -> Path:
    """The path of an npm tool of the client (installed first when needed)."""
    tool = node_modules(client_dir) / ".bin" / name
    if not tool.exists():
        raise ClientGenerationError(f"{tool} is missing after `npm ci`")
    return tool


def generate(out_dir: Path, contracts_dir: Path = CONTRACTS_DIR) -> dict[Path, str]:
    """Write the generated files under ``out_dir``; returns relative path -> text."""
    openapi_path, schema_path = out_dir / OPENAPI_FILE, out_dir / SCHEMA_FILE
    openapi_path.parent.mkdir(parents=True, exist_ok=True)
    schema_path.parent.mkdir(parents=True, exist_ok=True)
    openapi_path.write_text(render(merged_document(contracts_dir)), encoding="utf-8")
    generator = npm_tool("openapi-typescript")
    _run([str(generator), str(openapi_path), "--output", str(schema_path)], cwd=CLIENT_DIR)
    return {relative: (out_dir / relative).read_text(encoding="utf-8") for relative in GENERATED}


def compare(expected: dict[Path, str], client_dir: Path = CLIENT_DIR) -> list[str]:
    """Every generated file under ``client_dir`` that is missing or differs from ``expected``."""
    problems: list[str] = []
    for relative, text in expected.items():
        path = client_dir / relative
        if not path.exists():
            problems.append(f"clients/typescript/{relative.as_posix()}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"clients/typescript/{relative.as_posix()}: stale")
    return problems


def check_client(client_dir: Path = CLIENT_DIR, contracts_dir: Path = CONTRACTS_DIR) -> list[str]:
    """Every generated file under ``client_dir`` that is missing or stale; ``[]`` if none."""
    with tempfile.TemporaryDirectory(prefix="channel-client-") as tmp:
        return compare(generate(Path(tmp), contracts_dir), client_dir)


def write_client(client_dir: Path = CLIENT_DIR, contracts_dir: Path = CONTRACTS_DIR) -> list[str]:
    """Bring the generated files up to date; returns what changed (``[]`` when nothing did)."""
    before = {
        relative: (client_dir / relative).read_text(encoding="utf-8")
        for relative in GENERATED
        if (client_dir / relative).exists()
    }
    after = generate(client_dir, contracts_dir)
    return [
        f"{'updated' if relative in before else 'created'} clients/typescript/{relative.as_posix()}"
        for relative, text in after.items()
        if before.get(relative) != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: write (default) or ``--check``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a generated file is stale"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check_client()
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print(f"\nThe TypeScript client is out of date: {FIX}.", file=sys.stderr)
                return 1
            print("the TypeScript client is up to date")
            return 0
        changes = write_client()
    except ClientGenerationError as exc:
        print(exc, file=sys.stderr)
        return 2
    for change in changes:
        print(change)
    print(f"{len(changes)} client file(s) changed" if changes else "the client is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
