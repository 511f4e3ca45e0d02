"""The production stack for real: docker-compose.yml, unchanged, under
podman-compose on images built from Debian packages. Up, every health check
passing, a device publishing through the TLS listener with its own
credentials, its rows stored, the dashboard behind its login; then faults on
the running stack (ingester killed mid-stream, database and broker
restarted): every event stored exactly once."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from compose_stack import Stack, build_images
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

pytestmark = [pytest.mark.compose, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: run scripts/install-system.sh as root")
    t0 = time.monotonic()
    images = build_images()
    s = Stack(tmp_path_factory.mktemp("stack"), images)
    s.timings["images_s"] = time.monotonic() - t0
    s.prepare()
    try:
        s.up()
        yield s
    finally:
        t1 = time.monotonic()
        s.down()
        s.timings["down_s"] = time.monotonic() - t1
        print(f"\ncompose stack timings [s]: {json.dumps(s.timings)}")


def device_client(s: Stack, password: str | None = None) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=s.device,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.username_pw_set(s.device, password or s.device_password)
    c.tls_set(
        ca_certs=str(Path(s.env["MOSQUITTO_DIR"]) / "certs" / "ca.crt"),
        cert_reqs=ssl.CERT_REQUIRED,
    )
    c.max_queued_messages_set(0)
    c.max_inflight_messages_set(100)
    return c


def connect(c: mqtt.Client, s: Stack) -> Any:
    """Connect through TLS; the CONNACK reason code."""
    got = threading.Event()
    result: list[Any] = []

    def on_connect(_c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        result.append(rc)
        got.set()

    c.on_connect = on_connect
    c.connect("127.0.0.1", int(s.env["MQTTS_PORT"]), keepalive=30)
    c.loop_start()
    assert got.wait(20), "no CONNACK through the TLS listener"
    return result[0]


def event(s: Stack, seq: int) -> tuple[str, bytes]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    payload = {"ts": now, "seq": seq, "occupied": seq % 2 == 0}
    return f"occupancy/hq/{s.device}/presence", json.dumps(payload).encode()


def stored(s: Stack, first: int, last: int) -> tuple[int, int]:
    """(rows, distinct seq) of the device's events with seq in [first, last]."""
    rows = s.psql(
        "SELECT count(*), count(DISTINCT seq) FROM sensor_events"
        f" WHERE device_id = '{s.device}' AND seq BETWEEN {first} AND {last}"
    )
    return int(rows[0][0]), int(rows[0][1])


def wait_stored(s: Stack, first: int, last: int, timeout_s: float = 120) -> float:
    t0 = time.monotonic()
    want = last - first + 1
    while stored(s, first, last)[1] < want:
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(
                f"stored {stored(s, first, last)} of {want} events;\n"
                + s.logs("ingest-1")
                + s.logs("ingest-2")
            )
        time.sleep(0.5)
    return time.monotonic() - t0


def http(s: Stack, path: str, auth: tuple[str, str] | None = None) -> Any:
    req = urllib.request.Request(f"http://127.0.0.1:{s.env['DASHBOARD_PORT']}{path}")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        return urllib.request.urlopen(req, timeout=30)
    except urllib.error.HTTPError as exc:
        return exc


def test_stack_comes_up_healthy(stack: Stack) -> None:
    for name, svc in stack.services().items():
        state = stack.inspect(name, "{{.State.Status}}")
        if name == "migrate":
            assert state == "exited"
            assert stack.inspect(name, "{{.State.ExitCode}}") == "0"
        else:
            assert state == "running", f"{name}: {state}\n{stack.logs(name)}"
        if "healthcheck" in svc:
            assert stack.wait_healthy(name, timeout_s=30) < 30
    # Published ports: plaintext MQTT and the dashboard on loopback only.
    bindings = json.loads(
        stack.inspect("mosquitto", "{{json .HostConfig.PortBindings}}")
    )
    assert bindings["1883/tcp"] == [
        {"HostIp": "127.0.0.1", "HostPort": stack.env["MQTT_PORT"]}
    ]
    dash = json.loads(stack.inspect("dashboard", "{{json .HostConfig.PortBindings}}"))
    assert dash["8050/tcp"][0]["HostIp"] == "127.0.0.1"
    db = json.loads(stack.inspect("timescaledb", "{{json .HostConfig.PortBindings}}"))
    assert not any(db.values()), db  # the database is not published at all
    # The services run as their own database roles.
    roles = {r[0] for r in stack.psql("SELECT usename FROM pg_stat_activity")}
    assert {"occupancy_ingester", "occupancy_dashboard"} <= roles, roles


def test_device_publishes_through_tls_and_rows_arrive(stack: Stack) -> None:
    bad = device_client(stack, password="wrong")
    rc = connect(bad, stack)
    bad.loop_stop()
    assert rc.is_failure, "a wrong device password must be refused"

    c = device_client(stack)
    assert not connect(c, stack).is_failure
    try:
        infos = [c.publish(*event(stack, seq), qos=1) for seq in range(1, 101)]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        c.disconnect()
        c.loop_stop()
    stack.timings["first_100_stored_s"] = wait_stored(stack, 1, 100)
    assert stored(stack, 1, 100) == (100, 100)


def test_dashboard_login(stack: Stack) -> None:
    assert http(stack, "/health").status == 200  # no login for the health check
    refused = http(stack, "/")
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert http(stack, "/", ("fm", "wrong")).status == 401
    page = http(stack, "/", ("fm", stack.dashboard_password))
    assert page.status == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "<title>" in page.read().decode()
    layout = http(stack, "/_dash-layout", ("fm", stack.dashboard_password))
    assert layout.status == 200 and json.loads(layout.read())


def test_analytics_and_retention_jobs_run(stack: Stack) -> None:
    """The analytics loop (as its own role) writes rollups; retention ran once."""
    deadline = time.monotonic() + 180
    while not stack.psql("SELECT 1 FROM analytics_watermark LIMIT 1"):
        assert time.monotonic() < deadline, stack.logs("analytics")
        time.sleep(1.0)
    assert "analyze failed" not in stack.logs("analytics", tail=200)
    deadline = time.monotonic() + 60
    while "removed" not in stack.logs("retention"):
        assert time.monotonic() < deadline, stack.logs("retention")
        time.sleep(1.0)
    assert "retention failed" not in stack.logs("retention")
