"""Container and cluster files, checked without a Docker engine or a cluster."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from compose_spec import PyCompose
from typer.main import get_command

from ledgerbridge.cli.main import Service
from ledgerbridge.cli.main import app as cli

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def _kustomization() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return loaded


def _resources() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for name in _kustomization()["resources"]:
        documents.extend(doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc)
    return documents


def _by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in _resources() if doc["kind"] == kind]


def _cli_commands() -> set[str]:
    return set(get_command(cli).commands)  # type: ignore[attr-defined]


def test_every_manifest_validates_against_the_kubernetes_schema() -> None:
    documents = _resources()
    assert {doc["kind"] for doc in documents} >= {
        "ConfigMap",
        "Job",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    for document in documents:
        kubernetes_validate.validate(document, "1.30", strict=True)


def test_a_broken_manifest_is_rejected() -> None:
    deployment = _by_kind("Deployment")[0]
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30", strict=True)


def test_deployments_have_probes_requests_and_run_real_commands() -> None:
    deployments = {doc["metadata"]["name"]: doc for doc in _by_kind("Deployment")}
    assert set(deployments) == {"ledgerbridge-api"} | {f"ledgerbridge-{service}" for service in Service}
    for deployment in deployments.values():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert container["args"][0] in _cli_commands()
        assert {"configMapRef", "secretRef"} <= {key for ref in container["envFrom"] for key in ref}
    (job,) = _by_kind("Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


def test_every_service_declares_the_port_its_metrics_are_served_on() -> None:
    """The API serves /metrics only on API_METRICS_PORT (off by default): a manifest that does not set it
    leaves Prometheus nothing to scrape; each worker's QUEUE_HEALTH_PORT must be a declared port too."""
    (config,) = _by_kind("ConfigMap")
    for deployment in _by_kind("Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {**config["data"], **{item["name"]: item["value"] for item in container.get("env", [])}}
        name = (
            "API_METRICS_PORT"
            if deployment["metadata"]["name"] == "ledgerbridge-api"
            else "QUEUE_HEALTH_PORT"
        )
        declared = {port["containerPort"] for port in container["ports"]}
        assert int(env[name]) in declared, deployment["metadata"]["name"]
    services = _compose()["services"]
    assert services["api"]["environment"]["API_METRICS_PORT"] == "9100"
    # The merge keeps every shared setting: the API still has its database and secrets.
    assert {"DATABASE_URL", "SECRET_KEY"} <= set(services["api"]["environment"])
    assert "9100" not in " ".join(services["api"]["ports"])


def test_autoscalers_and_disruption_budgets_point_at_real_deployments() -> None:
    deployments = {doc["metadata"]["name"]: doc for doc in _by_kind("Deployment")}
    scaled = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in _by_kind("HorizontalPodAutoscaler")}
    assert scaled == {f"ledgerbridge-{service}" for service in Service}
    labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments.values()]
    for budget in _by_kind("PodDisruptionBudget"):
        selector = budget["spec"]["selector"]["matchLabels"]
        assert any(selector.items() <= label.items() for label in labels), budget["metadata"]["name"]
    (service,) = _by_kind("Service")
    assert (
        service["spec"]["selector"].items()
        <= deployments["ledgerbridge-api"]["spec"]["template"]["metadata"]["labels"].items()
    )


def _compose() -> dict[str, Any]:
    # Compose resolves YAML anchors and merge keys while parsing; PyYAML does the same here.
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_file_validates_against_the_compose_spec() -> None:
    compose = PyCompose.from_yaml(yaml.safe_dump(_compose()))
    assert set(compose.service_names()) == {
        "postgres",
        "redis",
        "migrate",
        "api",
        "poller",
        "mapper",
        "publisher",
    }


def test_compose_services_wait_for_healthy_dependencies_and_have_health_checks() -> None:
    services = _compose()["services"]
    for name in ("api", "poller", "mapper", "publisher"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "healthcheck" in service
        assert service["command"][0] in _cli_commands()
    assert services["migrate"]["command"] == ["migrate"]


def test_an_invalid_compose_file_is_rejected() -> None:
    compose = _compose()
    compose["services"]["api"]["healthcheck"] = {"tset": ["CMD", "true"]}
    with pytest.raises(ValueError, match="tset"):
        PyCompose.from_yaml(yaml.safe_dump(compose))


def test_dockerfile_copies_every_workspace_member_manifest() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    workspace = root["tool"]["uv"]["workspace"]
    excluded = {ROOT / path for pattern in workspace.get("exclude", []) for path in ROOT.glob(pattern)}
    members = [
        path.relative_to(ROOT)
        for pattern in workspace["members"]
        for path in ROOT.glob(pattern)
        if path not in excluded
    ]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for member in members:
        assert f"COPY {member}/pyproject.toml {member}/pyproject.toml" in dockerfile
