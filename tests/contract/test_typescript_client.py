"""The committed TypeScript client (clients/typescript/) is current and type-checks.

Fix a staleness failure with `make clients` (then commit clients/typescript/). The npm tools are
installed with `npm ci` when clients/typescript/node_modules is missing.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> ModuleType:
    """Load a module by path: neither scripts/ nor tests/ is a package."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


clients = _load("channel_suite_clients", ROOT / "scripts" / "clients.py")
CLIENT_DIR: Path = clients.CLIENT_DIR

# A misuse of the client for each kind of mistake the types must catch (line -> what is wrong).
MISUSE = """\
import {{ createChannelClient }} from "{index}";

const client = createChannelClient({{ baseUrl: "http://gateway", token: "csk_x" }});

export async function misuse(): Promise<void> {{
  await client.GET("/api/v1/partnerz", {{}});
  await client.GET("/api/v1/partners", {{ params: {{ query: {{ status: "retired" }} }} }});
  await client.POST("/api/v1/observations", {{ body: {{ observations: [{{ kpi: "x" }}] }} }});
  const {{ data }} = await client.GET("/api/v1/partners/{{partner_id}}", {{
    params: {{ path: {{ partner_id: "p" }} }},
  }});
  const tier: number | undefined = data?.tier;
  console.log(tier);
}}
"""
MISUSE_LINES = {6: "unknown path", 7: "status not in the enum", 8: "item lacks fields", 12: "type"}


def _tsc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    tsc = clients.npm_tool("tsc")
    return subprocess.run(
        [str(tsc), "--noEmit", "--pretty", "false", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, str]:
    """The client files as `make clients` would write them now (generated once, in a temp dir)."""
    files: dict[Path, str] = clients.generate(tmp_path_factory.mktemp("client"))
    return files


def test_generated_client_is_current(generated: dict[Path, str]) -> None:
    problems = clients.compare(generated)

    assert problems == [], f"{clients.FIX}:\n" + "\n".join(problems)


def test_client_and_example_type_check() -> None:
    result = _tsc("-p", ".", cwd=CLIENT_DIR)

    assert result.returncode == 0, f"tsc --noEmit failed:\n{result.stdout}{result.stderr}"


def test_the_types_catch_misuse(tmp_path: Path) -> None:
    index = Path(os.path.relpath(CLIENT_DIR / "src" / "index", tmp_path)).as_posix()
    (tmp_path / "misuse.ts").write_text(MISUSE.format(index=index), encoding="utf-8")
    # The client's compiler options; module lookups fall back to the client's node_modules.
    tsconfig = {
        "extends": str(CLIENT_DIR / "tsconfig.json"),
        "compilerOptions": {"paths": {"*": [str(CLIENT_DIR / "node_modules" / "*")]}},
        "include": [],
        "files": ["misuse.ts"],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(tsconfig), encoding="utf-8")

    result = _tsc("-p", ".", "--skipLibCheck", cwd=tmp_path)  # the .d.ts files are checked above

    errors = [line for line in result.stdout.splitlines() if line.startswith("misuse.ts(")]
    failing_lines = {int(line.split("(", 1)[1].split(",", 1)[0]) for line in errors}
    assert result.returncode != 0
    assert failing_lines == set(MISUSE_LINES), result.stdout
    assert all("error TS" in line for line in errors)


class TestClientsScript:
    def test_merged_document_holds_every_service_behind_the_gateway(self) -> None:
        document = clients.merged_document()

        assert document["info"]["title"] == "Channel Suite API"
        assert "x-unavailable-services" not in document
        for path in (
            "/api/v1/api-keys",  # the gateway's own
            "/api/v1/partners",
            "/api/v1/observations",
            "/api/v1/rebate-programs",
            "/api/v1/alerts",
        ):
            assert path in document["paths"], path
        responses = document["paths"]["/api/v1/partners"]["get"]["responses"]
        assert {"429", "502", "504"} <= set(responses)

    def test_compare_names_stale_and_missing_files(
        self, generated: dict[Path, str], tmp_path: Path
    ) -> None:
        (tmp_path / "openapi.json").write_text(generated[clients.OPENAPI_FILE] + "\n")

        problems = clients.compare(generated, tmp_path)

        assert problems == [
            "clients/typescript/openapi.json: stale",
            "clients/typescript/src/schema.d.ts: missing",
        ]

    def test_generated_types_follow_the_merged_document(self, generated: dict[Path, str]) -> None:
        document = json.loads(generated[clients.OPENAPI_FILE])
        types = generated[clients.SCHEMA_FILE]

        assert document == clients.merged_document()
        assert types.startswith("/**\n * This file was auto-generated by openapi-typescript.")
        for path in document["paths"]:
            assert f'    "{path}": {{' in types, path

    def test_unknown_service_snapshot_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "openapi").mkdir()
        for name in ("gateway", "billing-svc"):
            shutil.copy(
                ROOT / "contracts" / "openapi" / "gateway.json",
                tmp_path / "openapi" / f"{name}.json",
            )

        with pytest.raises(ValueError, match="routes to no 'billing'"):
            clients.merged_document(tmp_path)
