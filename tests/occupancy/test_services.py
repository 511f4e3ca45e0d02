"""`occupancy services start|status|stop` really start and stop the servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg2
import pytest

from app.services import free_port, port_open

from conftest import make_traversable

pytestmark = pytest.mark.integration


def _run(
    data_dir: Path, pg: int, mq: int, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OCCUPANCY_PG_PORT": str(pg), "OCCUPANCY_MQTT_PORT": str(mq)}
    env.pop("OCCUPANCY_DATABASE_URL", None)
    env.pop("OCCUPANCY_MQTT_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "--data-dir",
            str(data_dir),
            "services",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def test_services_lifecycle(tmp_path: Path) -> None:
    make_traversable(tmp_path)
    pg, mq = free_port(), free_port()
    data = tmp_path / "dev"
    assert _run(data, pg, mq, "status").returncode == 1
    started = _run(data, pg, mq, "start")
    assert started.returncode == 0, started.stderr
    assert (
        f"OCCUPANCY_DATABASE_URL=postgresql://occupancy@127.0.0.1:{pg}/occupancy"
        in started.stdout
    )
    assert f"OCCUPANCY_MQTT_URL=mqtt://127.0.0.1:{mq}" in started.stdout
    try:
        status = _run(data, pg, mq, "status")
        assert status.returncode == 0 and status.stdout.count("running") == 2
        conn = psycopg2.connect(f"postgresql://occupancy@127.0.0.1:{pg}/occupancy")
        with conn.cursor() as cur:
            cur.execute("SHOW shared_preload_libraries")
            assert "timescaledb" in cur.fetchone()[0]
            cur.execute("SELECT usename FROM pg_user WHERE usesuper")
            assert ("occupancy",) in cur.fetchall()
        conn.close()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        assert client.connect("127.0.0.1", mq) == mqtt.MQTT_ERR_SUCCESS
        client.disconnect()
        # Data dirs belong to the service users when run as root.
        if os.geteuid() == 0:
            assert (data / "postgres" / "pgdata").stat().st_uid != 0
        again = _run(data, pg, mq, "start")  # idempotent
        assert again.returncode == 0, again.stderr
    finally:
        stopped = _run(data, pg, mq, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not port_open(pg) and not port_open(mq)


def test_free_ports_lie_outside_the_ephemeral_range() -> None:
    """A server stopped in a fault test must be able to bind its port again:
    the kernel gives ports of its ephemeral range to outgoing connections, so
    a port from that range can be taken while the server is away."""
    from app.services import _ephemeral_range

    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(not low <= p <= high for p in ports), (low, high, ports)
    # and each is really free: a listening socket binds it
    import socket

    for port in ports[:5]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))
            s.listen()
