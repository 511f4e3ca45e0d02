"""Private development services: a Mosquitto broker and a PostgreSQL server with
TimescaleDB, each under a data directory, on configurable loopback ports.

Used by ``occupancy services start|stop|status``, the demo and the test harness.
Run as root, PostgreSQL runs as the ``postgres`` user (initdb refuses root) and
Mosquitto drops to ``mosquitto``; their files are handed to those users.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = [
    "MosquittoServer",
    "PostgresServer",
    "ServiceError",
    "find_pg_bindir",
    "free_port",
    "wait_for_port",
]


class ServiceError(RuntimeError):
    """A development service could not be started, stopped or found."""


_HANDED_OUT: set[int] = set()
_LOWEST_PORT = 20000


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range of local ports for outgoing connections."""
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        low, high = (int(v) for v in text.split()[:2])
    except (OSError, ValueError):
        return (32768, 60999)
    return (low, high)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now, chosen outside the
    kernel's ephemeral range.

    A port from the ephemeral range (what ``bind(0)`` returns) can be given to
    any outgoing connection as its source port while the server that owns it
    is stopped, and the server then cannot bind it again on restart (seen in
    CI: PostgreSQL stopped for 30 s in a fault test did not come back). Ports
    below the range are never handed out by the kernel on its own.
    """
    import random

    low, high = _ephemeral_range()
    if low - _LOWEST_PORT >= 1000:
        candidates = range(_LOWEST_PORT, low)
    else:  # an unusual range: use the ports above it, or the kernel's choice
        candidates = range(high + 1, 65536) if high < 64535 else range(0)
    rng = random.SystemRandom()
    for _ in range(200):
        if not candidates:
            break
        port = rng.choice(candidates)
        if port not in _HANDED_OUT and _bindable(port):
            _HANDED_OUT.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout_s: float = 30.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        time.sleep(0.05)
    raise ServiceError(f"nothing answers on {host}:{port} after {timeout_s:.0f} s")


def _is_root() -> bool:
    return os.geteuid() == 0


def _chown_tree(path: Path, user: str) -> None:
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in dirs + files:
            os.chown(
                os.path.join(root, name), pw.pw_uid, pw.pw_gid, follow_symlinks=False
            )


def check_traversable(path: Path, user: str) -> None:
    """Raise a clear error when ``user`` cannot reach ``path`` (root runs the
    servers as other users, which need execute permission on every parent)."""
    if not _is_root():
        return
    for parent in [*reversed(path.resolve().parents)]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            raise ServiceError(
                f"{user} cannot enter {parent} (mode {oct(mode & 0o777)}), a parent of "
                f"{path}: choose another data directory or `chmod o+x {parent}`"
            )


def _as_user(cmd: list[str], user: str) -> list[str]:
    if _is_root():
        return ["runuser", "-u", user, "--", *cmd]
    return cmd


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_pg_bindir() -> Path:
    """The newest PostgreSQL whose lib dir has timescaledb.so; else the newest one
    (the schema then works without hypertables). ``OCCUPANCY_PG_BINDIR`` overrides."""
    env = os.environ.get("OCCUPANCY_PG_BINDIR")
    if env:
        return Path(env)
    base = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in base.glob("*") if (p / "bin" / "postgres").exists()),
        key=lambda p: float(p.name) if p.name.replace(".", "").isdigit() else 0.0,
        reverse=True,
    )
    for v in versions:
        if (v / "lib" / "timescaledb.so").exists():
            return v / "bin"
    if versions:
        logger.warning(
            "no TimescaleDB found for PostgreSQL %s: plain tables only",
            versions[0].name,
        )
        return versions[0] / "bin"
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise ServiceError(
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin): "
        "run scripts/install-system.sh as root"
    )


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster in ``data_dir`` listening on 127.0.0.1:``port``."""

    data_dir: Path
    port: int
    user: str = "occupancy"
    database: str = "occupancy"
    fsync: bool = True
    bindir: Path = field(default_factory=find_pg_bindir)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "postgres.log"

    @property
    def timescaledb(self) -> bool:
        return (self.bindir.parent / "lib" / "timescaledb.so").exists()

    def url(self, database: str | None = None) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database or self.database}"

    def _run(
        self, args: list[str], check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        cmd = _as_user([str(self.bindir / args[0]), *args[1:]], "postgres")
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, timeout=120
        )
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip()[-2000:]
            raise ServiceError(
                f"{args[0]} failed ({proc.returncode}): {detail}{self._log_tail()}"
            )
        return proc

    def _log_tail(self, lines: int = 15) -> str:
        """The end of the server log, for an error that says 'examine the log'."""
        try:
            tail = self.logfile.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"\n{self.logfile}:\n" + "\n".join(tail) if tail else ""

    def initdb(self) -> bool:
        if (self.pgdata / "PG_VERSION").exists():
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if _is_root():
            _chown_tree(self.data_dir, "postgres")
        self._run(
            [
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.pgdata}'",
            "max_connections = 100",
            "shared_buffers = 256MB",
            "timezone = 'UTC'",
            "log_min_messages = warning",
            "timescaledb.telemetry_level = off" if self.timescaledb else "",
            "shared_preload_libraries = 'timescaledb'" if self.timescaledb else "",
        ]
        if not self.fsync:
            conf += [
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
            ]
        with open(self.pgdata / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
            fh.write("\n".join(line for line in conf if line) + "\n")
        return True

    def running(self) -> bool:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            pid = int(pidfile.read_text().split()[0])
        except (ValueError, IndexError, OSError):
            return False
        return _pid_alive(pid)

    def start(self) -> None:
        created = self.initdb()
        if not self.running():
            if _is_root():
                self.logfile.touch()
                _chown_tree(self.data_dir, "postgres")
            self._run(
                [
                    "pg_ctl",
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {self.port}",
                    "start",
                ]
            )
        wait_for_port(self.port)
        self.create_database(self.database, exist_ok=True)
        if created:
            logger.info("initialised PostgreSQL cluster in %s", self.pgdata)

    def stop(self, mode: str = "fast") -> None:
        if self.running():
            self._run(
                ["pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop"]
            )

    def create_database(self, name: str, *, exist_ok: bool = False) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"), connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone():
                    if exist_ok:
                        return
                    raise ServiceError(f"database {name!r} exists")
                from psycopg2 import sql

                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()


@dataclass
class MosquittoServer:
    """A private Mosquitto 2 broker on 127.0.0.1:``port`` with persistence in
    ``data_dir``. With ``password_file`` and ``acl_file`` anonymous clients are
    refused and topics are restricted, as in production."""

    data_dir: Path
    port: int
    password_file: Path | None = None
    acl_file: Path | None = None
    max_queued_messages: int = 1_000_000
    binary: str = field(
        default_factory=lambda: shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    )

    @property
    def conf_path(self) -> Path:
        return self.data_dir / "mosquitto.conf"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "mosquitto.pid"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "mosquitto.log"

    def url(self, username: str | None = None, password: str | None = None) -> str:
        auth = f"{username}:{password}@" if username else ""
        return f"mqtt://{auth}127.0.0.1:{self.port}"

    def write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        check_traversable(self.data_dir, "mosquitto")
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {self.data_dir}/",
            "autosave_interval 30",
            f"max_queued_messages {self.max_queued_messages}",
            "max_queued_bytes 0",
            "max_inflight_messages 0",
            "max_packet_size 1048576",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        files = []
        if self.password_file:
            files.append(self.password_file)
            lines += ["allow_anonymous false", f"password_file {self.password_file}"]
        else:
            lines.append("allow_anonymous true")
        if self.acl_file:
            files.append(self.acl_file)
            lines.append(f"acl_file {self.acl_file}")
        self.conf_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if _is_root():
            _chown_tree(self.data_dir, "mosquitto")
            for f in files:
                pw = pwd.getpwnam("mosquitto")
                os.chown(f, pw.pw_uid, pw.pw_gid)
                os.chmod(f, 0o600)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self) -> None:
        if self.running():
            wait_for_port(self.port)
            return
        if not Path(self.binary).exists():
            raise ServiceError(
                "mosquitto not found: run scripts/install-system.sh as root"
            )
        self.write_config()
        log = open(self.logfile, "ab")
        proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf_path)],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.pid_path.write_text(str(proc.pid))
        try:
            wait_for_port(self.port, timeout_s=10)
        except ServiceError as exc:
            tail = self.logfile.read_text(errors="replace")[-1500:]
            raise ServiceError(
                f"mosquitto did not start on port {self.port}: {tail}"
            ) from exc

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 10.0) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
            except ChildProcessError:
                if not _pid_alive(pid):
                    break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)
