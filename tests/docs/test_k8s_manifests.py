"""The Kubernetes manifests in deploy/k8s parse, build, and match the services they run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bwai_cli import registry

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse the manifests")

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
GATEWAY = ROOT / "deploy" / "docker" / "gateway.conf"
DEPLOY_README = ROOT / "deploy" / "README.md"


def _documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [document for document in yaml.safe_load_all(handle) if document is not None]


def _base_objects() -> list[dict[str, Any]]:
    kustomization = _documents(BASE / "kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in _documents(BASE / name)]


def _objects_of(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in _base_objects() if doc["kind"] == kind}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


ALL_YAML = sorted([*BASE.glob("*.yaml"), *OVERLAYS.glob("*/*.yaml")])


@pytest.mark.parametrize("path", ALL_YAML, ids=lambda path: str(path.relative_to(ROOT)))
def test_manifest_parses(path: Path) -> None:
    for document in _documents(path):
        assert document.get("apiVersion"), f"{path}: a document has no apiVersion"
        assert document.get("kind"), f"{path}: a document has no kind"


def test_kustomization_lists_every_manifest() -> None:
    listed = set(_documents(BASE / "kustomization.yaml")[0]["resources"])
    present = {path.name for path in BASE.glob("*.yaml")} - {"kustomization.yaml"}

    assert listed == present


def test_every_service_has_deployment() -> None:
    assert set(_objects_of("Deployment")) == set(registry.SERVICES)


@pytest.mark.parametrize("kind", ["Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"])
def test_every_deployment_has_companion(kind: str) -> None:
    assert set(_objects_of(kind)) == set(_objects_of("Deployment"))


@pytest.mark.parametrize("name", sorted(registry.SERVICES))
def test_deployment_runs_its_service(name: str) -> None:
    deployment = _objects_of("Deployment")[name]
    container = _container(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert container["args"] == ["run", name]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert "replicas" not in deployment["spec"], "the HorizontalPodAutoscaler owns replicas"


@pytest.mark.parametrize("name", sorted(registry.SERVICES))
def test_deployment_probes_health_endpoints(name: str) -> None:
    container = _container(_objects_of("Deployment")[name])

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("name", sorted(registry.SERVICES))
def test_deployment_sets_resources(name: str) -> None:
    resources = _container(_objects_of("Deployment")[name])["resources"]

    for section in ("requests", "limits"):
        assert set(resources[section]) == {"cpu", "memory"}, section


@pytest.mark.parametrize("name", sorted(registry.SERVICES))
def test_deployment_is_locked_down(name: str) -> None:
    deployment = _objects_of("Deployment")[name]
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    container = _container(deployment)["securityContext"]

    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == _dockerfile_uid()
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("name", sorted(registry.SERVICES))
def test_autoscaler_and_budget_target_service(name: str) -> None:
    autoscaler = _objects_of("HorizontalPodAutoscaler")[name]
    budget = _objects_of("PodDisruptionBudget")[name]
    selector = _objects_of("Deployment")[name]["spec"]["selector"]["matchLabels"]

    assert autoscaler["spec"]["scaleTargetRef"]["name"] == name
    assert budget["spec"]["minAvailable"] < autoscaler["spec"]["minReplicas"]
    assert budget["spec"]["selector"]["matchLabels"] == selector
    assert _objects_of("Service")[name]["spec"]["selector"] == selector


def test_ingress_routes_every_public_prefix() -> None:
    routes = _ingress_routes()

    for name, definition in registry.SERVICES.items():
        for prefix in (*definition.public_prefixes, f"/v1/admin/{name}"):
            assert routes.get(prefix) == name, f"Ingress does not route {prefix} to {name}"


def test_ingress_matches_gateway() -> None:
    gateway = {
        location.rstrip("/"): service
        for location, service in re.findall(
            r"location\s+(\S+)\s*\{\s*proxy_pass\s+http://([\w-]+):", GATEWAY.read_text()
        )
    }

    assert _ingress_routes() == gateway


def test_secret_references_are_documented() -> None:
    readme = DEPLOY_README.read_text(encoding="utf-8")

    for secret, key in _secret_references():
        assert f"`{secret}`" in readme, f"deploy/README.md does not list Secret {secret}"
        assert f"`{key}`" in readme, f"deploy/README.md does not list key {key} of {secret}"


def test_no_secret_values_in_manifests() -> None:
    kinds = {doc["kind"] for doc in _base_objects()}

    assert "Secret" not in kinds


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("folder", [BASE, *sorted(OVERLAYS.iterdir())], ids=lambda p: p.name)
def test_kustomize_builds(folder: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None

    # Builds locally from the files; it contacts no cluster.
    result = subprocess.run(  # noqa: S603 - fixed arguments, a folder of this repository
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr


def _ingress_routes() -> dict[str, str]:
    ingress = _objects_of("Ingress")["bwai"]
    return {
        path["path"]: path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }


def _secret_references() -> set[tuple[str, str]]:
    references = set()
    for deployment in _objects_of("Deployment").values():
        for variable in _container(deployment).get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref is not None:
                references.add((ref["name"], ref["key"]))
    return references


def _dockerfile_uid() -> int:
    match = re.search(r"--uid (\d+)", DOCKERFILE.read_text())
    assert match is not None, "deploy/docker/Dockerfile creates no user with --uid"
    return int(match.group(1))
