"""docker-compose.yml is validated without a Docker engine: schema, references,
and that every variable it needs is documented in .env.example."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _default(image: str) -> str:
    """``${VAR:-default}`` -> ``default``."""
    m = re.fullmatch(r"\$\{[A-Z_]+:-([^}]+)\}", image)
    return m.group(1) if m else image


def test_services_of_the_deployment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {
        "mosquitto",
        "timescaledb",
        "migrate",
        "ingest-1",
        "ingest-2",
        "dashboard",
        "analytics",
        "retention",
    } <= set(services)
    # Pinned to a version (not a moving major tag or latest).
    assert re.fullmatch(
        r"eclipse-mosquitto:2\.\d+\.\d+", _default(services["mosquitto"]["image"])
    )
    assert re.fullmatch(
        r"timescale/timescaledb:\d+\.\d+\.\d+-pg1[67]",
        _default(services["timescaledb"]["image"]),
    )
    assert re.fullmatch(
        r"workplace-occupancy:\d+\.\d+\.\d+", _default(services["migrate"]["image"])
    )
    assert (ROOT / "Dockerfile").exists()
    assert services["migrate"]["build"]["context"] == "."
    assert "BASE" in services["migrate"]["build"]["args"]
    assert "ARG BASE=python:3.11" in (ROOT / "Dockerfile").read_text()


def test_ports_fail_closed(compose: dict[str, Any]) -> None:
    """Plaintext MQTT and the dashboard default to host loopback; only TLS is public."""
    ports = {
        name: [_resolve(p) for p in svc.get("ports", [])]
        for name, svc in compose["services"].items()
    }
    assert "127.0.0.1:1883:1883" in ports["mosquitto"]
    assert "0.0.0.0:8883:8883" in ports["mosquitto"]
    assert ports["dashboard"] == ["127.0.0.1:8050:8050"]
    assert ports["timescaledb"] == []


def _resolve(text: str) -> str:
    return re.sub(r"\$\{[A-Z_]+:-([^}]+)\}", r"\1", text)


def test_each_service_logs_in_with_its_own_role(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def user(name: str) -> str:
        url = services[name]["environment"]["OCCUPANCY_DATABASE_URL"]
        return str(re.match(r"postgresql://([^:]+):", url).group(1))  # type: ignore[union-attr]

    assert user("ingest-1") == user("ingest-2") == "occupancy_ingester"
    assert user("analytics") == "occupancy_analytics"
    assert user("dashboard") == "occupancy_dashboard"
    assert user("migrate") == user("retention") == "occupancy"
    # The one-shot runs under a shell (the image's ENTRYPOINT is `occupancy`).
    assert services["migrate"]["entrypoint"][:2] == ["sh", "-c"]
    assert "db retention" in services["retention"]["entrypoint"][2]


def test_references_are_consistent(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared_volumes = set(compose.get("volumes", {}))
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for vol in svc.get("volumes", []):
            src = _resolve(vol).split(":")[0]
            if src.startswith(("./", "/")):
                if src.startswith("./") and not src.startswith(
                    ("./deploy/mosquitto/passwd", "./deploy/mosquitto/acl")
                ):
                    if "certs" not in src:
                        assert (ROOT / src).exists(), f"{name} mounts missing {src}"
            else:
                assert src in declared_volumes, f"{name} uses undeclared volume {src}"
        if name not in ("migrate", "analytics", "retention"):
            assert "healthcheck" in svc, f"{name} has no health check"
    # The image the app services run is the one built by `migrate`.
    image = services["migrate"]["image"]
    for name in (
        "ingest-1",
        "ingest-2",
        "dashboard",
        "analytics",
        "retention",
        "dask-scheduler",
        "dask-worker",
    ):
        assert services[name]["image"] == image
    ids = {
        services[n]["environment"]["OCCUPANCY_INGEST_CLIENT_ID"]
        for n in ("ingest-1", "ingest-2")
    }
    assert len(ids) == 2, "each ingester needs its own client id"
    # A plain subscription by default (Mosquitto 2.0 keeps it across a broker
    # restart, not a shared one); the second ingester only in the shared profile.
    assert services["ingest-1"]["environment"]["OCCUPANCY_INGEST_GROUP"] == (
        "${INGEST_GROUP:-}"
    )
    assert "ingest-1" not in {n for n, s in services.items() if "profiles" in s}
    assert services["ingest-2"]["profiles"] == ["shared-ingest"]


def test_dask_cluster_only_in_the_scale_profile(compose: dict[str, Any]) -> None:
    """The Dask scheduler and workers start only with the `scale` profile,
    run the app image's `dask` commands, publish nothing, and the analytics
    service uses them only when OCCUPANCY_DASK_SCHEDULER names the scheduler
    (empty by default: no cluster)."""
    services = compose["services"]
    dask = {n for n, svc in services.items() if "scale" in svc.get("profiles", [])}
    assert dask == {"dask-scheduler", "dask-worker"}
    others = {n for n, svc in services.items() if svc.get("profiles")} - dask
    # the second ingester of a shared subscription is opt-in too (docs/deploy.md)
    assert others == {"ingest-2"}, f"services outside the default profile: {others}"
    assert services["ingest-2"]["profiles"] == ["shared-ingest"]
    scheduler, worker = services["dask-scheduler"], services["dask-worker"]
    assert scheduler["entrypoint"][:2] == ["dask", "scheduler"]
    assert "--port" in scheduler["entrypoint"]
    port = scheduler["entrypoint"][scheduler["entrypoint"].index("--port") + 1]
    assert worker["entrypoint"][:3] == [
        "dask",
        "worker",
        f"tcp://dask-scheduler:{port}",
    ]
    assert "dask-scheduler" in worker["depends_on"]
    assert "ports" not in scheduler and "ports" not in worker
    env = services["analytics"]["environment"]
    assert env["OCCUPANCY_DASK_SCHEDULER"] == "${OCCUPANCY_DASK_SCHEDULER:-}"
    assert "dask-scheduler" not in services["analytics"].get("depends_on", {})
    documented = (ROOT / ".env.example").read_text()
    assert "OCCUPANCY_DASK_SCHEDULER=\n" in documented
    assert f"OCCUPANCY_DASK_SCHEDULER=tcp://dask-scheduler:{port}" in documented


def test_every_variable_is_documented_in_env_example() -> None:
    text = COMPOSE.read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert used <= documented, f"undocumented: {sorted(used - documented)}"


def test_mosquitto_config_refuses_anonymous_and_uses_acl() -> None:
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert (
        "password_file /mosquitto/config/passwd" in conf
        and "acl_file /mosquitto/config/acl" in conf
    )
    acl = (ROOT / "deploy" / "mosquitto" / "acl.example").read_text()
    assert "pattern write occupancy/+/%u/#" in acl


def test_compose_spec_schema(tmp_path: Path) -> None:
    exe = shutil.which("check-jsonschema") or str(
        Path(__file__).resolve().parents[2] / ".venv/bin/check-jsonschema"
    )
    res = subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize(
    "profile", [[], ["--profile", "scale"]], ids=["default", "scale"]
)
def test_docker_compose_config_resolves(profile: list[str]) -> None:
    exe = shutil.which("docker-compose")
    assert exe, (
        "docker-compose (v1, Debian package) is installed by scripts/install-system.sh"
    )
    res = subprocess.run(
        [
            exe,
            "--env-file",
            str(ROOT / ".env.example"),
            "-f",
            str(COMPOSE),
            *profile,
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
