"""docker-compose.yml is valid against the Compose specification and wires the suite right."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ops_support import PROCESSES, ROOT

COMPOSE = ROOT / "docker-compose.yml"
BACKENDS = ("partner", "kpi", "rebate", "alert")
PREFIX = {"partner-svc": "PARTNER_", "kpi-svc": "KPI_", "rebate-svc": "REBATE_"}
PREFIX |= {"alert-svc": "ALERT_", "gateway": "GATEWAY_"}


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    """Validate a compose file with check-jsonschema's bundled Compose schema."""
    binary = shutil.which("check-jsonschema") or str(
        Path(sys.executable).parent / "check-jsonschema"
    )
    return subprocess.run(
        [binary, "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml as data."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


class TestComposeSchema:
    def test_validates_against_the_compose_spec(self) -> None:
        result = check_jsonschema(COMPOSE)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_an_invalid_file_is_refused(self, tmp_path: Path) -> None:
        broken = yaml.safe_load(COMPOSE.read_text())
        broken["services"]["gateway"]["depends_on"]["partner-svc"]["condition"] = "when_ready"
        path = tmp_path / "docker-compose.yml"
        path.write_text(yaml.safe_dump(broken))
        assert check_jsonschema(path).returncode != 0


class TestComposeWiring:
    def test_one_database_per_service(self, compose: dict[str, Any]) -> None:
        init = (ROOT / "deploy" / "postgres" / "init-databases.sql").read_text()
        urls = {}
        for process in PROCESSES:
            env = compose["services"][process]["environment"]
            urls[process] = env[f"{PREFIX[process]}DATABASE_URL"]
            database = urls[process].rsplit("/", 1)[1]
            assert f"CREATE DATABASE {database};" in init
        assert len(set(urls.values())) == len(PROCESSES)

    def test_each_service_waits_for_its_migration_nats_and_postgres(
        self, compose: dict[str, Any]
    ) -> None:
        services = compose["services"]
        for name in BACKENDS:
            depends = services[f"{name}-svc"]["depends_on"]
            assert depends[f"{name}-migrate"] == {"condition": "service_completed_successfully"}
            assert depends["nats"]["condition"] == "service_healthy"
            assert depends["postgres"]["condition"] == "service_healthy"
        gateway = services["gateway"]["depends_on"]
        assert gateway["gateway-migrate"] == {"condition": "service_completed_successfully"}
        for name in BACKENDS:
            assert gateway[f"{name}-svc"] == {"condition": "service_healthy"}

    def test_migrations_run_alembic_in_the_service_image(self, compose: dict[str, Any]) -> None:
        services = compose["services"]
        for process in PROCESSES:
            short = process.removesuffix("-svc")
            migrate = services[f"{short}-migrate"]
            assert migrate["image"] == services[process]["image"]
            assert migrate["command"][:3] == ["alembic", "-c", "/app/alembic.ini"]
            assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
            assert migrate["restart"] == "no"

    def test_every_long_running_container_has_a_healthcheck(self, compose: dict[str, Any]) -> None:
        for name, service in compose["services"].items():
            if name.endswith("-migrate") or name == "grafana":
                continue
            assert service["healthcheck"]["test"], name
        for process in PROCESSES:
            probe = " ".join(compose["services"][process]["healthcheck"]["test"])
            assert "/readyz" in probe

    def test_images_are_pinned_and_built_from_their_own_dockerfile(
        self, compose: dict[str, Any]
    ) -> None:
        for name, service in compose["services"].items():
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), name
            if "build" in service:
                dockerfile = ROOT / service["build"]["dockerfile"]
                assert dockerfile.is_file(), name
                assert image.split("/")[1].split(":")[0] == dockerfile.parent.name

    def test_secrets_come_from_the_environment(self, compose: dict[str, Any]) -> None:
        for process in PROCESSES:
            env = compose["services"][process]["environment"]
            assert env[f"{PREFIX[process]}JWT_KEY"].startswith("${CHANNEL_JWT_KEY:?")
        assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")

    def test_only_the_gateway_and_the_monitoring_publish_ports(
        self, compose: dict[str, Any]
    ) -> None:
        published = {name for name, s in compose["services"].items() if "ports" in s}
        assert published == {"gateway", "prometheus", "grafana"}
        for name in published:
            for port in compose["services"][name]["ports"]:
                assert port.startswith("127.0.0.1:"), name

    def test_monitoring_mounts_the_committed_configuration(self, compose: dict[str, Any]) -> None:
        mounts = (
            compose["services"]["prometheus"]["volumes"] + compose["services"]["grafana"]["volumes"]
        )
        for mount in mounts:
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), mount

    def test_every_process_states_its_uvicorn_workers(self, compose: dict[str, Any]) -> None:
        # One each: Prometheus scrapes a container as one target, and metrics are per worker.
        for process in PROCESSES:
            assert compose["services"][process]["environment"]["WEB_CONCURRENCY"] == "1", process
