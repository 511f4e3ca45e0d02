"""Runs docker-compose.yml, unchanged, with podman-compose on locally built
images (scripts/build-images.sh): secrets, certificates, broker users and free
loopback ports are made per run in a temporary directory.

podman 4.3 (Debian 12) without systemd neither runs health checks on a timer
nor honours ``condition: service_healthy`` (podman-compose skips it below
podman 4.6). So the stack is started in the order the compose file's
``depends_on`` gives, and each dependency's condition is checked here: a
health check by running the container's own check (``podman healthcheck
run``, the command in the compose file) until it passes, a completed one-shot
by its exit code.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.services import free_port

from conftest import EXAMPLE_BUILDING, ROOT, make_traversable

COMPOSE = ROOT / "docker-compose.yml"
VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


def run(
    cmd: list[str], *, check: bool = True, timeout: float = 600, **kw: Any
) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw
    )
    if check and res.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
        )
    return res


def build_images() -> dict[str, str]:
    out = run(["bash", str(ROOT / "scripts" / "build-images.sh")], timeout=3600)
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def make_certs(certs: Path) -> None:
    """A CA and a server certificate for localhost / 127.0.0.1 / mosquitto."""
    certs.mkdir(parents=True)
    ssl = ["openssl"]
    run([*ssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=occupancy-test-ca", "-keyout", str(certs / "ca.key"),
         "-out", str(certs / "ca.crt")])  # fmt: skip
    run([*ssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", str(certs / "server.key"), "-out", str(certs / "server.csr")])  # fmt: skip
    ext = certs / "san.ext"
    ext.write_text("subjectAltName=DNS:localhost,DNS:mosquitto,IP:127.0.0.1\n")
    run([*ssl, "x509", "-req", "-in", str(certs / "server.csr"), "-CA",
         str(certs / "ca.crt"), "-CAkey", str(certs / "ca.key"), "-CAcreateserial",
         "-days", "2", "-extfile", str(ext), "-out", str(certs / "server.crt")])  # fmt: skip
    for f in certs.iterdir():
        f.chmod(0o644)  # read by the broker's own user inside the container


@dataclass
class Stack:
    """One running compose project."""

    workdir: Path
    images: dict[str, str]
    project: str = field(default_factory=lambda: "occ" + secrets.token_hex(4))
    env: dict[str, str] = field(default_factory=dict)
    device: str = "ds-f0-operations-d001"
    device_password: str = field(default_factory=lambda: secrets.token_hex(12))
    timings: dict[str, float] = field(default_factory=dict)
    #: Compose profiles started beside the default services (``scale``: the
    #: Dask scheduler and DASK_WORKERS workers).
    profiles: tuple[str, ...] = ()

    # setup ---------------------------------------------------------------
    def prepare(self, **extra_env: str) -> None:
        """Secrets, certificates, broker users and ports in .env, plus
        ``extra_env`` (e.g. DASK_WORKERS)."""
        make_traversable(self.workdir)
        mq = self.workdir / "mosquitto"
        mq.mkdir()
        shutil.copy(ROOT / "deploy" / "mosquitto" / "mosquitto.conf", mq)
        shutil.copy(ROOT / "deploy" / "mosquitto" / "acl.example", mq / "acl")
        make_certs(mq / "certs")
        s = {k: secrets.token_hex(16) for k in (
            "POSTGRES_PASSWORD", "INGESTER_DB_PASSWORD", "ANALYTICS_DB_PASSWORD",
            "DASHBOARD_DB_PASSWORD", "MQTT_INGEST_PASSWORD", "MQTT_HEALTH_PASSWORD",
            "OCCUPANCY_SECRET_KEY", "DASHBOARD_PASSWORD")}  # fmt: skip
        s["OCCUPANCY_PSEUDONYM_KEY"] = secrets.token_hex(32)
        passwd = mq / "passwd"
        for i, (user, pw) in enumerate(
            [
                ("ingest", s["MQTT_INGEST_PASSWORD"]),
                ("health", s["MQTT_HEALTH_PASSWORD"]),
                (self.device, self.device_password),
            ]
        ):
            run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(passwd),
                 user, pw])  # fmt: skip
        for f in mq.iterdir():
            if f.is_file():
                f.chmod(0o644)
        self.env = {
            **{k: v for k, v in s.items() if k != "DASHBOARD_PASSWORD"},
            "OCCUPANCY_AUTH_USERS": f"fm:{s['DASHBOARD_PASSWORD']}",
            "MQTT_INGEST_USER": "ingest",
            "MQTT_HEALTH_USER": "health",
            "MOSQUITTO_DIR": str(mq),
            "BUILDING_FILE": str(EXAMPLE_BUILDING),
            "MQTT_BIND": "127.0.0.1",
            "MQTT_PORT": str(free_port()),
            "MQTTS_BIND": "127.0.0.1",
            "MQTTS_PORT": str(free_port()),
            "DASHBOARD_BIND": "127.0.0.1",
            "DASHBOARD_PORT": str(free_port()),
            "ANALYZE_INTERVAL_S": "30",
            **self.images,
            **extra_env,
        }
        self.dashboard_password = s["DASHBOARD_PASSWORD"]
        (self.workdir / ".env").write_text(
            "".join(f"{k}={v}\n" for k, v in self.env.items())
        )

    # compose ---------------------------------------------------------------
    def compose(self, *args: str, timeout: float = 600, stderr: bool = False) -> str:
        """podman-compose ``args`` on this project; its stdout (and stderr)."""
        exe = shutil.which("podman-compose", path=str(VENV_BIN)) or "podman-compose"
        res = run(
            [exe, "-f", str(COMPOSE), "-p", self.project, "--env-file",
             str(self.workdir / ".env"),
             *(a for p in self.profiles for a in ("--profile", p)), *args],
            timeout=timeout,
            cwd=ROOT,
            env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
        )  # fmt: skip
        return res.stdout + (res.stderr if stderr else "")

    def container(self, service: str, number: int = 1) -> str:
        return f"{self.project}_{service}_{number}"

    def replicas(self, service: str) -> list[str]:
        """The running containers of ``service`` (``scale:`` in the compose file)."""
        out = run(
            ["podman", "ps", "--format", "{{.Names}}", "--filter",
             f"label=io.podman.compose.project={self.project}", "--filter",
             f"label=io.podman.compose.service={service}"],
        ).stdout  # fmt: skip
        return sorted(out.split())

    def services(self) -> dict[str, Any]:
        """The services ``docker compose up`` starts: those of no profile
        (``shared-ingest``, ``scale`` and the like are opt-in) and those of
        :attr:`profiles`."""
        data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
        return {
            n: s
            for n, s in data.items()
            if not s.get("profiles") or set(s["profiles"]) & set(self.profiles)
        }

    def ingesters(self) -> list[str]:
        return sorted(n for n in self.services() if n.startswith("ingest-"))

    def stages(self) -> list[list[str]]:
        """Services grouped so each group depends only on earlier groups."""
        deps = {n: set(s.get("depends_on", {})) for n, s in self.services().items()}
        done: set[str] = set()
        out = []
        while len(done) < len(deps):
            ready = sorted(n for n, d in deps.items() if n not in done and d <= done)
            assert ready, f"dependency cycle in {COMPOSE}"
            out.append(ready)
            done.update(ready)
        return out

    def up(self) -> None:
        t0 = time.monotonic()
        services = self.services()
        for stage in self.stages():
            for name in stage:
                for dep, cond in services[name].get("depends_on", {}).items():
                    self.wait_condition(dep, cond["condition"])
            self.compose("up", "-d", "--no-deps", "--no-build", *stage)
        self.timings["up_s"] = time.monotonic() - t0
        for name, svc in services.items():
            if "healthcheck" in svc:
                for number in range(1, max(len(self.replicas(name)), 1) + 1):
                    self.wait_healthy(name, number=number)
        self.timings["healthy_s"] = time.monotonic() - t0

    def wait_condition(self, service: str, condition: str) -> None:
        if condition == "service_healthy":
            self.wait_healthy(service)
        elif condition == "service_completed_successfully":
            name = self.container(service)
            run(["podman", "wait", name], timeout=600)
            code = self.inspect(service, "{{.State.ExitCode}}")
            if code != "0":
                raise AssertionError(
                    f"{service} exited with {code}:\n{self.logs(service)}"
                )

    def wait_healthy(
        self, service: str, timeout_s: float = 240, number: int = 1
    ) -> float:
        """Run the service's compose health check (in its container
        ``number``) until it passes; seconds taken."""
        t0 = time.monotonic()
        name = self.container(service, number)
        while True:
            res = run(["podman", "healthcheck", "run", name], check=False, timeout=60)
            if res.returncode == 0:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout_s:
                raise AssertionError(
                    f"{service} not healthy after {timeout_s:.0f} s: {res.stdout}"
                    f"{res.stderr}\n{self.logs(service)}"
                )
            time.sleep(1.0)  # the check's own interval, as a timer would run it

    def inspect(self, service: str, fmt: str) -> str:
        return run(
            ["podman", "inspect", "--format", fmt, self.container(service)]
        ).stdout.strip()

    def logs(self, service: str, tail: int = 120) -> str:
        res = run(
            ["podman", "logs", "--tail", str(tail), self.container(service)],
            check=False,
        )
        return res.stdout + res.stderr

    def psql(self, query: str) -> list[list[str]]:
        """Rows of ``query`` run as the migrations owner inside the database container."""
        res = run(
            ["podman", "exec", "-e", f"PGPASSWORD={self.env['POSTGRES_PASSWORD']}",
             self.container("timescaledb"), "psql", "-h", "127.0.0.1", "-U",
             "occupancy", "-d", "occupancy", "-AtF", "\t", "-c", query],
        )  # fmt: skip
        return [line.split("\t") for line in res.stdout.splitlines() if line]

    def down(self) -> None:
        self.compose("down", "-v", "-t", "5", timeout=300)
