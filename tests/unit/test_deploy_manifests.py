"""The lab deployment files, checked here without a Kubernetes cluster or a lab.

Every core Kubernetes object in deploy/kubernetes is validated against the upstream API schemas
that kubernetes-validate bundles, in strict mode (unknown fields refused). No package registry
ships KubeRay's RayCluster CRD, so the RayCluster is validated against a restatement of its rules
(tests/data/raycluster_rules.json) whose pod templates are the upstream PodTemplateSpec; the tests
show both validators refuse deliberately broken objects. The Prometheus configuration goes through
the real `promtool check config`, the lab scripts through `bash -n`, shellcheck and their own
refusals of bad options (which stop before any Ray process starts).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import major_minor, schema_contents
from referencing import Registry, Resource

from cluster.placement import parse_roots, resource_for
from tests.conftest import REPO

K8S = REPO / "deploy" / "kubernetes"
RULES = REPO / "tests" / "data" / "raycluster_rules.json"
SCRIPTS = [REPO / "deploy" / "lab-head.sh", REPO / "deploy" / "lab-node.sh"]
# The oldest Kubernetes a lab is likely to run still, and the newest whose schemas the package has.
VERSIONS = ["1.30", major_minor(kubernetes_validate.latest_version())]
CREDENTIAL_NAME = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|USER|CREDENTIAL", re.I)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def manifests() -> list[tuple[str, dict[str, Any]]]:
    """Every object of deploy/kubernetes (the Secret template included), with its file name."""
    return [(p.name, d) for p in sorted(K8S.glob("*.yaml")) if p.name != "kustomization.yaml" for d in documents(p)]


def one(kind: str) -> dict[str, Any]:
    found = [d for _, d in manifests() if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def pod_templates(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, pod spec) of every pod a workload or the RayCluster makes."""
    if doc["kind"] == "RayCluster":
        yield "head", doc["spec"]["headGroupSpec"]["template"]["spec"]
        for group in doc["spec"].get("workerGroupSpecs", []):
            yield group["groupName"], group["template"]["spec"]
    elif doc["kind"] in ("StatefulSet", "Deployment", "DaemonSet"):
        yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for _, doc in manifests():
        for where, spec in pod_templates(doc):
            for c in spec.get("containers", []) + spec.get("initContainers", []):
                yield f"{doc['kind']}/{where}/{c['name']}", c


def ray_start_resources(value: str) -> dict[str, float]:
    """KubeRay passes rayStartParams values to `ray start` as written; --resources needs its JSON
    quoted once more for the shell, so the value is a JSON string holding a JSON object."""
    inner = json.loads(value)
    assert isinstance(inner, str), f"resources {value!r} is not quoted as KubeRay expects"
    return json.loads(inner)


def raycluster_validator(version: str) -> jsonschema.Draft202012Validator:
    """The restated RayCluster rules, their pod templates resolved to the upstream schemas."""
    definitions = schema_contents(f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version)
    registry = Registry().with_resource(definitions["$id"], Resource.from_contents(definitions))
    return jsonschema.Draft202012Validator(json.loads(RULES.read_text()), registry=registry)


# Kubernetes objects against the upstream schemas


@pytest.mark.parametrize("version", VERSIONS)
def test_core_objects_match_the_kubernetes_schemas(version: str) -> None:
    kinds = set()
    for _, doc in manifests():
        if doc["kind"] == "RayCluster":
            continue
        # A kind without a schema raises SchemaNotFoundError: nothing passes unchecked.
        kubernetes_validate.validate(doc, version, strict=True)
        kinds.add(doc["kind"])
    assert {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Service",
        "StatefulSet",
        "PersistentVolume",
        "PersistentVolumeClaim",
    } <= kinds


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["spec", "replicas"], "one", "is not of type 'integer'"),
        (["spec", "template", "spec", "containers", 0, "envfrom"], [], "Additional properties"),
        (["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"], "9000", "is not of type"),
    ],
)
def test_the_kubernetes_schemas_refuse_a_broken_object(path: list[Any], value: Any, message: str) -> None:
    broken = copy.deepcopy(next(d for d in documents(K8S / "minio.yaml") if d["kind"] == "StatefulSet"))
    set_at(broken, path, value)
    with pytest.raises(kubernetes_validate.ValidationError, match=re.escape(message)):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def set_at(doc: Any, path: list[Any], value: Any) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


# The RayCluster against the restated CRD rules


@pytest.mark.parametrize("version", VERSIONS)
def test_raycluster_matches_the_restated_crd(version: str) -> None:
    raycluster_validator(version).validate(one("RayCluster"))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["apiVersion"], "ray.io/v1alpha2", "'ray.io/v1' was expected"),
        (["spec", "workerGroupSpecs", 0, "minReplicas"], "two", "is not of type 'integer'"),
        (["spec", "headGroupSpec", "rayStartParams", "num-cpus"], 0, "is not of type 'string'"),
        (["spec", "workerGroupSpec"], [], "Additional properties"),
        (
            ["spec", "workerGroupSpecs", 1, "template", "spec", "containers", 0, "imagePullPolcy"],
            "Always",
            "Additional properties",
        ),
        (
            ["spec", "headGroupSpec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "readOnly"],
            "yes",
            "is not of type",
        ),
    ],
)
def test_the_restated_crd_refuses_a_broken_raycluster(path: list[Any], value: Any, message: str) -> None:
    broken = copy.deepcopy(one("RayCluster"))
    set_at(broken, path, value)
    errors = [e.message for e in raycluster_validator(VERSIONS[-1]).iter_errors(broken)]
    assert any(message in e for e in errors), errors


def test_the_restated_crd_requires_a_worker_groups_template() -> None:
    broken = copy.deepcopy(one("RayCluster"))
    del broken["spec"]["workerGroupSpecs"][0]["template"]
    errors = [e.message for e in raycluster_validator(VERSIONS[-1]).iter_errors(broken)]
    assert "'template' is a required property" in errors


# What Quarry needs of the manifests


def test_the_secret_template_holds_no_values() -> None:
    secrets = documents(K8S / "secrets.template.yaml")
    assert {s["metadata"]["name"] for s in secrets} == {"quarry-minio-root", "quarry-s3", "quarry-ray-token"}
    for secret in secrets:
        assert "data" not in secret
        assert secret["stringData"] and all(v == "" for v in secret["stringData"].values()), secret["metadata"]


def test_every_secret_and_configmap_referenced_exists_with_its_keys() -> None:
    secrets = {s["metadata"]["name"]: set(s["stringData"]) for s in documents(K8S / "secrets.template.yaml")}
    configmaps = {d["metadata"]["name"]: set(d.get("data", {})) for _, d in manifests() if d["kind"] == "ConfigMap"}
    configmaps["quarry-prometheus"] = {Path(f).name for f in generated_configmap()["files"]}
    seen = set()
    for where, c in containers():
        for source in c.get("envFrom", []):
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, where
                seen.add(source["secretRef"]["name"])
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in configmaps, where
        for env in c.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets.get(ref["name"], set()), f"{where}: {env['name']}"
                seen.add(ref["name"])
    for _, doc in manifests():
        for where, spec in pod_templates(doc):
            for volume in spec.get("volumes", []):
                if "configMap" in volume:
                    assert volume["configMap"]["name"] in configmaps, where
    assert seen == set(secrets), "a Secret of the template is never used"


def test_no_credential_is_written_in_a_manifest() -> None:
    for where, c in containers():
        for env in c.get("env", []):
            if CREDENTIAL_NAME.search(env["name"]) and env["name"] != "RAY_AUTH_MODE":
                assert "value" not in env, f"{where}: {env['name']} must come from a Secret"
                assert "secretKeyRef" in env["valueFrom"], f"{where}: {env['name']}"
    for name, doc in manifests():
        if doc["kind"] == "ConfigMap":
            assert not any(CREDENTIAL_NAME.search(k) for k in doc["data"]), name


def test_every_ray_container_authenticates_and_gets_quarrys_settings() -> None:
    ray = [(w, c) for w, c in containers() if w.startswith("RayCluster/")]
    assert len(ray) == 3
    for where, c in ray:
        env = {e["name"]: e for e in c["env"]}
        assert env["RAY_AUTH_MODE"]["value"] == "token", where
        assert env["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "quarry-ray-token", "key": "auth_token"}
        sources = [next(iter(s.values()))["name"] for s in c["envFrom"]]
        assert sources == ["quarry-settings", "quarry-s3"], where


def test_raycluster_groups() -> None:
    spec = one("RayCluster")["spec"]
    settings = one("ConfigMap")["data"]
    head = spec["headGroupSpec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in head["ports"]}
    assert ports["quarry-metrics"] == int(settings["QUARRY_METRICS_PORT"])
    groups = {g["groupName"]: g for g in spec["workerGroupSpecs"]}
    assert set(groups) == {"cpu", "gpu"}
    for group in groups.values():
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"], group["groupName"]
    gpu = groups["gpu"]["template"]["spec"]["containers"][0]["resources"]
    assert int(gpu["limits"]["nvidia.com/gpu"]) >= 1
    # The evidence share: the CPU group mounts it read-only and declares the resource Quarry's
    # placement asks of an image under it (as deploy/lab-node.sh --evidence nas=/evidence would);
    # the head mounts it for intake but declares nothing; the GPU group reads MinIO only.
    roots = parse_roots(settings["QUARRY_EVIDENCE_ROOTS"])
    ((root, label),) = roots.items()
    share = resource_for(f"{root}/case-1/disk.E01", roots)
    assert share == f"evidence_{label}"
    assert ray_start_resources(groups["cpu"]["rayStartParams"]["resources"]) == {share: 1}
    for name, template in [("head", spec["headGroupSpec"]["template"]), ("cpu", groups["cpu"]["template"])]:
        mounts = {m["name"]: m for m in template["spec"]["containers"][0]["volumeMounts"]}
        assert mounts["evidence"] == {"name": "evidence", "mountPath": root, "readOnly": True}, name
        claim = next(v for v in template["spec"]["volumes"] if v["name"] == "evidence")["persistentVolumeClaim"]
        assert claim == {"claimName": "quarry-evidence", "readOnly": True}, name
    assert "resources" not in spec["headGroupSpec"]["rayStartParams"]
    assert all(v["name"] != "evidence" for v in groups["gpu"]["template"]["spec"]["volumes"])
    assert "resources" not in groups["gpu"]["rayStartParams"]
    pv = one("PersistentVolume")["spec"]
    assert pv["accessModes"] == ["ReadOnlyMany"] and pv["nfs"]["readOnly"] is True and "ro" in pv["mountOptions"]
    assert pv["persistentVolumeReclaimPolicy"] == "Retain"


# Kustomization


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def generated_configmap() -> dict[str, Any]:
    (generator,) = kustomization()["configMapGenerator"]
    return generator


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    k = kustomization()
    listed = set(k["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secrets.template.yaml"}
    assert listed == on_disk
    for path in generated_configmap()["files"]:
        assert (K8S / path).is_file(), path
    names = {i["name"] for i in k["images"]}
    for where, c in containers():
        # Quarry's own images are named in one place; others are pinned to a version.
        assert c["image"] in names or re.search(r":v?\d", c["image"]), f"{where}: {c['image']}"
    assert {c["image"] for _, c in containers()} >= names


def test_alerts_for_kubernetes_are_the_lab_alerts() -> None:
    lab_alerts = REPO / "deploy" / "prometheus" / "alerts.yml"
    assert (K8S / "prometheus" / "alerts.yml").read_bytes() == lab_alerts.read_bytes()


# Prometheus


def promtool(*args: str | Path) -> subprocess.CompletedProcess:
    path = shutil.which("promtool")
    assert path, "promtool (Debian package prometheus) is not installed: run `make install`"
    return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=60)


def prometheus_dir(tmp_path: Path, config: str | None = None) -> Path:
    """The folder the Prometheus pod sees at /etc/prometheus: the generated ConfigMap's files."""
    for path in generated_configmap()["files"]:
        shutil.copy(K8S / path, tmp_path / Path(path).name)
    if config is not None:
        (tmp_path / "prometheus.yml").write_text(config)
    return tmp_path / "prometheus.yml"


def test_promtool_accepts_the_kubernetes_config_and_its_rules(tmp_path: Path) -> None:
    result = promtool("check", "config", prometheus_dir(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout + result.stderr


def test_promtool_refuses_a_broken_config(tmp_path: Path) -> None:
    config = (K8S / "prometheus" / "prometheus.yml").read_text()
    broken = config.replace("type: A", "type: AXFR", 1)
    assert broken != config
    result = promtool("check", "config", prometheus_dir(tmp_path, broken))
    assert result.returncode != 0
    assert "AXFR" in result.stdout + result.stderr


def services() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in manifests() if d["kind"] == "Service"}


def pods_behind(service: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(group, pod template) of every pod whose labels the Service's selector matches."""
    selector = service["spec"]["selector"]
    found = []
    for _, doc in manifests():
        templates = []
        if doc["kind"] == "RayCluster":
            spec = doc["spec"]
            templates = [("head", spec["headGroupSpec"]["template"])]
            templates += [(g["groupName"], g["template"]) for g in spec["workerGroupSpecs"]]
        elif doc["kind"] == "StatefulSet":
            templates = [(doc["metadata"]["name"], doc["spec"]["template"])]
        for group, template in templates:
            if selector.items() <= template["metadata"]["labels"].items():
                found.append((group, template))
    return found


@pytest.mark.parametrize("name", ["quarry-manager", "quarry-ray-nodes", "quarry-minio", "quarry-prometheus"])
def test_each_service_reaches_a_named_port_of_its_pods(name: str) -> None:
    service = services()[name]
    pods = pods_behind(service)
    assert pods, f"{name} selects no pod"
    for port in service["spec"]["ports"]:
        for group, template in pods:
            named = {p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c["ports"]}
            assert port["targetPort"] in named, f"{name}: {group} has no port {port['targetPort']}"


def test_prometheus_scrapes_the_services_the_cluster_exposes() -> None:
    config = yaml.safe_load((K8S / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(jobs) == {"quarry", "ray-nodes", "minio"}
    settings = one("ConfigMap")["data"]

    def service_port(host_port: str) -> tuple[dict[str, Any], dict[str, Any]]:
        host, port = host_port.rsplit(":", 1)
        name, namespace, svc = host.split(".")
        assert (namespace, svc) == ("quarry", "svc"), host
        service = services()[name]
        return service, next(p for p in service["spec"]["ports"] if p["port"] == int(port))

    # The job manager: the head alone, on QUARRY_METRICS_PORT.
    (target,) = jobs["quarry"]["static_configs"][0]["targets"]
    service, port = service_port(target)
    assert [group for group, _ in pods_behind(service)] == ["head"]
    assert port["port"] == int(settings["QUARRY_METRICS_PORT"])
    # Ray's metrics: a headless Service over every Ray pod, each exporting on its metrics-export-port.
    (dns,) = jobs["ray-nodes"]["dns_sd_configs"]
    (name,) = dns["names"]
    service, port = service_port(f"{name}:{dns['port']}")
    assert service["spec"]["clusterIP"] == "None"
    assert [group for group, _ in pods_behind(service)] == ["head", "cpu", "gpu"]
    spec = one("RayCluster")["spec"]
    for group in [spec["headGroupSpec"], *spec["workerGroupSpecs"]]:
        assert int(group["rayStartParams"]["metrics-export-port"]) == dns["port"]
    # MinIO: the endpoint Quarry itself uses.
    (target,) = jobs["minio"]["static_configs"][0]["targets"]
    assert target == settings["QUARRY_S3_ENDPOINT"]
    service_port(target)


# The lab scripts


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses_and_passes_shellcheck(script: Path) -> None:
    assert subprocess.run(["bash", "-n", script], capture_output=True).returncode == 0
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck (Debian package shellcheck) is not installed: run `make install`"
    result = subprocess.run([shellcheck, "-x", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stdout


NODE = ["start", "--address", "10.0.0.1:6380", "--node-ip-address", "10.0.0.2"]


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("lab-node.sh", ["start", "--node-ip-address", "10.0.0.2"], "--address must be the head's HOST:PORT"),
        ("lab-node.sh", ["start", "--address", "10.0.0.1"], "--address must be the head's HOST:PORT"),
        ("lab-node.sh", ["start", "--address", "10.0.0.1:6380"], "--node-ip-address is required"),
        ("lab-node.sh", [*NODE, "--num-gpus", "one"], "--num-gpus must be a whole number, not 'one'"),
        ("lab-node.sh", [*NODE, "--num-cpus"], "--num-cpus needs a value"),
        ("lab-node.sh", [*NODE, "--evidence", "nas"], "--evidence 'nas' must be LABEL=PATH"),
        ("lab-node.sh", [*NODE, "--evidence", "a b=/"], "--evidence label 'a b' may hold only"),
        ("lab-node.sh", [*NODE, "--evidence", "nas=/no/such/share"], "/no/such/share is not a directory"),
        ("lab-node.sh", [*NODE, "--resources", "{bad"], "--resources is not JSON"),
        ("lab-node.sh", [*NODE, "--resources", '{"a": -1}'], "--resources must be a JSON object"),
        ("lab-node.sh", [*NODE, "--bogus"], "unknown option --bogus"),
        ("lab-head.sh", ["start", "--node-ip-address", "10.0.0.1", "--port", "70000"], "--port must be a TCP port"),
        ("lab-head.sh", ["start", "--port", "6380"], "--node-ip-address is required"),
    ],
)
def test_lab_scripts_refuse_bad_options(script: str, args: list[str], message: str, tmp_path: Path) -> None:
    result = run_script(script, args, tmp_path, RAY_AUTH_TOKEN="not-a-real-token")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "quarry" / "ray-lab.pid").exists()


def test_lab_node_wants_the_heads_token(tmp_path: Path) -> None:
    result = run_script("lab-node.sh", NODE, tmp_path)
    assert result.returncode == 2
    assert f"no Ray token at {tmp_path}/.ray/auth_token: copy ~/.ray/auth_token from the head node" in result.stderr


def run_script(script: str, args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "QUARRY_HOME": str(home / "quarry"),
        "QUARRY_VENV": sys.prefix,
        **env,
    }
    command = [str(REPO / "deploy" / script), *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)
