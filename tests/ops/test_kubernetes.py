"""deploy/k8s: both overlays render with kustomize, built-in kinds pass kubernetes-validate
--strict, custom resources pass their committed schemas, and the hardening policy holds."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from ops_support import PROCESSES, ROOT

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.31.0"
SCHEMAS = Path(__file__).resolve().parent / "crd_schemas"
# Custom resources kubernetes-validate does not know, and the schema that checks each.
CUSTOM = {
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "httproute",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor",
    ("postgresql.cnpg.io/v1", "Cluster"): "cnpg-cluster",
    ("postgresql.cnpg.io/v1", "Database"): "cnpg-database",
}
SECRETS = {"channel-jwt", "channel-gateway-admin"} | {
    f"channel-{p.removesuffix('-svc')}-db" for p in PROCESSES
}
Resource = dict[str, Any]


def render(overlay: str) -> list[Resource]:
    """Render an overlay with `kubectl kustomize` into its resources."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to render the overlays"
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Resource]]:
    """Both overlays, rendered once for the module."""
    return {overlay: render(overlay) for overlay in OVERLAYS}


def of_kind(resources: list[Resource], kind: str) -> dict[str, Resource]:
    """The resources of one kind, by name."""
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def pod_specs(resources: list[Resource]) -> dict[str, Resource]:
    """The pod spec of every workload, by `Kind/name`."""
    return {
        f"{r['kind']}/{r['metadata']['name']}": r["spec"]["template"]["spec"]
        for r in resources
        if r["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet")
    }


def cpu_cores(quantity: str | int) -> float:
    """A Kubernetes CPU quantity (`'2'`, `500m`) in cores."""
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def schema(name: str) -> dict[str, Any]:
    """A committed custom-resource schema (tests/ops/crd_schemas/)."""
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return loaded


@pytest.mark.parametrize("overlay", OVERLAYS)
class TestValidation:
    def test_builtin_kinds_pass_strict_validation(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        checked = 0
        for resource in rendered[overlay]:
            if (resource["apiVersion"], resource["kind"]) in CUSTOM:
                continue
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
            checked += 1
        assert checked >= 35  # 5 x 6 per service, namespace, network policies

    def test_custom_resources_match_their_schemas(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        seen = set()
        for resource in rendered[overlay]:
            key = (resource["apiVersion"], resource["kind"])
            if key in CUSTOM:
                jsonschema.validate(resource, schema(CUSTOM[key]))
                seen.add(key)
        assert seen == set(CUSTOM)

    def test_nothing_else_is_unknown(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        kinds = {r["kind"] for r in rendered[overlay]}
        expected = {"Namespace", "Deployment", "Service", "ServiceAccount", "Job", "NetworkPolicy"}
        expected |= {"HorizontalPodAutoscaler", "PodDisruptionBudget"}
        expected |= {kind for _, kind in CUSTOM}
        assert kinds == expected


class TestValidatorsCatchMistakes:
    def test_strict_validation_refuses_a_misspelt_field(
        self, rendered: dict[str, list[Resource]]
    ) -> None:
        deployment = dict(of_kind(rendered["prod"], "Deployment")["gateway"])
        deployment["spec"] = {**deployment["spec"], "replica": 2}
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)

    def test_crd_schemas_refuse_a_misspelt_field(self, rendered: dict[str, list[Resource]]) -> None:
        route = of_kind(rendered["prod"], "HTTPRoute")["channel-suite"]
        broken = {**route, "spec": {**route["spec"], "hostname": ["x.example.com"]}}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema("httproute"))
        cluster = of_kind(rendered["prod"], "Cluster")["channel-postgres"]
        params = {"max_connections": 300}  # CloudNativePG wants strings
        broken = {**cluster, "spec": {**cluster["spec"], "postgresql": {"parameters": params}}}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema("cnpg-cluster"))


@pytest.mark.parametrize("overlay", OVERLAYS)
class TestPolicy:
    def test_every_container_is_non_root_read_only_and_unprivileged(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        for name, spec in pod_specs(rendered[overlay]).items():
            pod = spec.get("securityContext", {})
            assert pod.get("runAsNonRoot") is True, name
            assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            assert spec.get("automountServiceAccountToken") is False, name
            for container in spec.get("initContainers", []) + spec["containers"]:
                security = container["securityContext"]
                assert security["runAsNonRoot"] is True, name
                assert security["runAsUser"] != 0, name
                assert security["readOnlyRootFilesystem"] is True, name
                assert security["allowPrivilegeEscalation"] is False, name
                assert security["capabilities"]["drop"] == ["ALL"], name
                assert "add" not in security["capabilities"], name

    def test_every_container_has_requests_limits_and_a_pinned_image(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        for name, spec in pod_specs(rendered[overlay]).items():
            for container in spec["containers"]:
                resources = container["resources"]
                for kind in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(resources[kind]), f"{name} {kind}"
                image = container["image"]
                repository, _, tag = image.rpartition(":")
                assert repository and "/" not in tag, f"{name}: untagged image {image}"
                assert tag != "latest" and tag, name
                assert image.startswith("registry.example.com/channel-suite/"), name

    def test_services_have_probes_and_a_graceful_shutdown(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        deployments = of_kind(rendered[overlay], "Deployment")
        assert set(deployments) == set(PROCESSES)
        for name, deployment in deployments.items():
            spec = deployment["spec"]["template"]["spec"]
            (container,) = spec["containers"]
            assert container["startupProbe"]["httpGet"]["path"] == "/livez", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/livez", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
            drain = int(
                container["args"][container["args"].index("--timeout-graceful-shutdown") + 1]
            )
            assert spec["terminationGracePeriodSeconds"] > pause + drain, name
            assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0

    def test_every_service_states_its_workers_within_its_cpu_limit(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        for name, deployment in of_kind(rendered[overlay], "Deployment").items():
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            env = {e["name"]: e.get("value") for e in container["env"]}
            workers = int(env["WEB_CONCURRENCY"])
            assert 1 <= workers <= cpu_cores(container["resources"]["limits"]["cpu"]), name
            args = " ".join(container["args"])
            assert "--loop uvloop --http httptools" in args, name
            assert "--workers" not in args, name

    def test_each_service_has_its_companions(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        resources = rendered[overlay]
        services = of_kind(resources, "Service")
        accounts = of_kind(resources, "ServiceAccount")
        hpas = of_kind(resources, "HorizontalPodAutoscaler")
        pdbs = of_kind(resources, "PodDisruptionBudget")
        monitors = of_kind(resources, "ServiceMonitor")
        jobs = of_kind(resources, "Job")
        for name, deployment in of_kind(resources, "Deployment").items():
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert services[name]["spec"]["selector"].items() <= labels.items()
            assert deployment["spec"]["template"]["spec"]["serviceAccountName"] in accounts
            assert hpas[name]["spec"]["scaleTargetRef"]["name"] == name
            assert pdbs[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
            selector = monitors[name]["spec"]["selector"]["matchLabels"]
            assert selector.items() <= services[name]["metadata"]["labels"].items()
            assert monitors[name]["spec"]["endpoints"][0]["path"] == "/metrics"
            migrate = jobs[f"{name}-migrate"]["spec"]["template"]["spec"]["containers"][0]
            assert migrate["args"][:3] == ["alembic", "-c", "/app/alembic.ini"]
            assert (
                migrate["image"] == deployment["spec"]["template"]["spec"]["containers"][0]["image"]
            )

    def test_secrets_are_referenced_never_committed(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        resources = rendered[overlay]
        assert not of_kind(resources, "Secret")
        assert not of_kind(resources, "ConfigMap")
        referenced = set()
        for spec in pod_specs(resources).values():
            for container in spec["containers"]:
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        referenced.add(ref["name"])
                    else:
                        assert "KEY" not in env["name"] and "PASSWORD" not in env["name"], env
        assert referenced == SECRETS


@pytest.mark.parametrize("overlay", OVERLAYS)
class TestNetworkPolicy:
    def test_everything_is_denied_by_default(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        deny = of_kind(rendered[overlay], "NetworkPolicy")["default-deny-all"]["spec"]
        assert deny["podSelector"] == {}
        assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
        assert "ingress" not in deny and "egress" not in deny

    def test_only_the_gateway_takes_outside_traffic(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        open_to_all = [
            policy["spec"]["podSelector"]
            for policy in of_kind(rendered[overlay], "NetworkPolicy").values()
            for rule in policy["spec"].get("ingress", [])
            if not rule.get("from")
        ]
        assert open_to_all == [{"matchLabels": {"app.kubernetes.io/name": "gateway"}}]

    def test_services_accept_only_the_gateway_and_prometheus(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        policies = of_kind(rendered[overlay], "NetworkPolicy")
        deployments = of_kind(rendered[overlay], "Deployment")
        backends = [n for n in deployments if n != "gateway"]
        for name in backends:
            labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
            sources = [
                peer
                for policy in policies.values()
                if policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
                for rule in policy["spec"].get("ingress", [])
                for peer in rule["from"]
            ]
            assert sources == [
                {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                },
            ], name

    def test_the_route_exposes_the_api_not_the_metrics(
        self, rendered: dict[str, list[Resource]], overlay: str
    ) -> None:
        (route,) = of_kind(rendered[overlay], "HTTPRoute").values()
        (rule,) = route["spec"]["rules"]
        assert [ref["name"] for ref in rule["backendRefs"]] == ["gateway"]
        paths = {m["path"]["value"] for m in rule["matches"]}
        assert "/api/v1" in paths
        assert not {"/", "/metrics", "/livez", "/readyz"} & paths


class TestOverlays:
    def test_prod_runs_three_of_everything_and_dev_one(
        self, rendered: dict[str, list[Resource]]
    ) -> None:
        for overlay, replicas in (("dev", 1), ("prod", 3)):
            for name, deployment in of_kind(rendered[overlay], "Deployment").items():
                assert deployment["spec"]["replicas"] == replicas, name
                hpa = of_kind(rendered[overlay], "HorizontalPodAutoscaler")[name]
                assert hpa["spec"]["minReplicas"] == replicas
            cluster = of_kind(rendered[overlay], "Cluster")["channel-postgres"]
            assert cluster["spec"]["instances"] == replicas

    def test_overlays_live_in_their_own_namespaces(
        self, rendered: dict[str, list[Resource]]
    ) -> None:
        for overlay, namespace in (("dev", "channel-dev"), ("prod", "channel-suite")):
            (ns,) = of_kind(rendered[overlay], "Namespace")
            assert ns == namespace
            for resource in rendered[overlay]:
                if resource["kind"] != "Namespace":
                    assert resource["metadata"]["namespace"] == namespace

    def test_a_single_replica_never_blocks_a_drain(
        self, rendered: dict[str, list[Resource]]
    ) -> None:
        for pdb in of_kind(rendered["dev"], "PodDisruptionBudget").values():
            assert pdb["spec"] == {**pdb["spec"], "maxUnavailable": 1}
            assert "minAvailable" not in pdb["spec"]


class TestNatsValues:
    def test_jetstream_cluster_of_three_on_file_storage(self) -> None:
        values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
        config = values["config"]
        assert config["cluster"] == {"enabled": True, "replicas": 3}
        jetstream = config["jetstream"]
        assert jetstream["enabled"] is True
        assert jetstream["fileStore"]["enabled"] is True
        assert jetstream["fileStore"]["pvc"]["enabled"] is True
        assert jetstream["memoryStore"]["enabled"] is False
        assert jetstream["merge"]["sync_interval"] == "always"
        assert values["promExporter"]["enabled"] is True
        assert values["podTemplate"]["merge"]["spec"]["securityContext"]["runAsNonRoot"] is True
