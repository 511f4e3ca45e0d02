"""The production stack for real: docker-compose.yml, unchanged, under
podman-compose on images built from Debian packages. Up, every health check
passing, a device publishing through the TLS listener with its own
credentials, its rows stored, the dashboard behind its login; then faults on
the running stack (ingester killed mid-stream, database and broker
restarted): every event stored exactly once. With the `scale` profile:
`occupancy analyze` on the stack's Dask scheduler and two workers gives the
rollups of a run in the analytics container alone."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import signal
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
    # With the `scale` profile: the Dask scheduler and two workers too.
    s = Stack(tmp_path_factory.mktemp("stack"), images, profiles=("scale",))
    s.timings["images_s"] = time.monotonic() - t0
    s.prepare(DASK_WORKERS="2")
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
                + "".join(s.logs(n) for n in s.ingesters())
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


class Publisher(threading.Thread):
    """A device publishing presence events at a steady rate through TLS,
    reconnecting by itself (paho), until stopped; remembers every seq sent."""

    def __init__(self, s: Stack, first_seq: int, rate_per_s: float) -> None:
        super().__init__(daemon=True)
        self.s, self.seq, self.period = s, first_seq, 1.0 / rate_per_s
        self.first = first_seq
        self.stop = threading.Event()
        self.infos: list[Any] = []
        self.client = device_client(s)
        self.client.reconnect_delay_set(0.2, 2.0)

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stop.is_set():
            if not self.client.is_connected():
                # A device buffers while its broker is away; paho resends what
                # was in flight when the connection comes back.
                self.stop.wait(0.05)
                next_at = time.monotonic()
                continue
            self.infos.append(self.client.publish(*event(self.s, self.seq), qos=1))
            self.seq += 1
            next_at += self.period
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    @property
    def last(self) -> int:
        return self.seq - 1


def _restart_and_wait(s: Stack, service: str, how: str) -> dict[str, Any]:
    t0 = time.monotonic()
    if how == "kill":
        # SIGKILL to the container's process from the host, as the OOM killer
        # does (`podman kill` counts as stopped by the user: no restart). The
        # restart policy (unless-stopped) must bring it back.
        pid = int(s.inspect(service, "{{.State.Pid}}"))
        restarts = s.inspect(service, "{{.RestartCount}}")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (
            s.inspect(service, "{{.RestartCount}}") == restarts
            or s.inspect(service, "{{.State.Status}}") != "running"
        ):
            assert time.monotonic() < deadline, f"{service} was not restarted"
            time.sleep(0.2)
    else:
        run_podman("restart", "-t", "10", s.container(service))
    healthy = s.wait_healthy(service) if "healthcheck" in s.services()[service] else 0
    return {"service": service, "fault": how, "back_s": round(time.monotonic() - t0, 1),
            "healthy_after_s": round(healthy, 1)}  # fmt: skip


def run_podman(*args: str) -> None:
    from compose_stack import run

    run(["podman", *args], timeout=120)


def _fault_run(
    stack: Stack, first_seq: int, faults: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    """Stream events at 200/s while ``faults`` hit the stack; the figures."""
    pub = Publisher(stack, first_seq=first_seq, rate_per_s=200)
    assert not connect(pub.client, stack).is_failure
    pub.start()
    done = []
    try:
        for service, how in faults:
            time.sleep(
                3.0
            )  # let the stream run between faults (rate-driven, not a race)
            done.append(_restart_and_wait(stack, service, how))
            for ingester in stack.ingesters():
                stack.wait_healthy(ingester)
        time.sleep(3.0)
    finally:
        pub.stop.set()
        pub.join(10)
    for info in pub.infos:
        info.wait_for_publish(120)  # every event acknowledged by the broker
    pub.client.disconnect()
    pub.client.loop_stop()
    sent = pub.last - pub.first + 1
    t0 = time.monotonic()
    try:
        # one ingester: after a kill it must start (slow at load 20+) and drain
        wait_stored(stack, pub.first, pub.last, timeout_s=300)
    except AssertionError as exc:  # the figures below say what is missing
        print(f"\nnot all stored: {exc}\n{stack.logs('mosquitto', tail=40)}")
    rows, distinct = stored(stack, pub.first, pub.last)
    dup = stack.psql("SELECT COALESCE(sum(events_duplicate), 0) FROM ingest_stats")[0]
    figures = {
        "sent": sent,
        "rows": rows,
        "distinct_seq": distinct,
        "duplicates_discarded_total": int(dup[0]),
        "catch_up_s": round(time.monotonic() - t0, 1),
        "faults": done,
        "ingester_restarts": {
            n: stack.inspect(n, "{{.RestartCount}}") for n in stack.ingesters()
        },
    }
    print(f"\nfault run: {json.dumps(figures)}")
    return figures


def test_fault_run_ingester_killed_and_database_restarted(stack: Stack) -> None:
    """Every event stored exactly once (by device and seq)."""
    f = _fault_run(stack, 10_001, (("ingest-1", "kill"), ("timescaledb", "restart")))
    assert f["rows"] == f["distinct_seq"] == f["sent"], f


def test_fault_run_broker_restarted(stack: Stack) -> None:
    """Every event stored exactly once across a broker restart while the device
    streams: the ingester's plain persistent subscription is saved with its
    session by Mosquitto, so what devices publish after the restart and before
    the ingester is back is queued for it. (A shared subscription is not saved
    by Mosquitto 2.0: those messages were lost, 71 of 1,552 in one run;
    docs/deploy.md, "Broker restarts".)"""
    for name in stack.ingesters():
        log = stack.logs(name, tail=400)
        assert "subscribing occupancy/#" in log and "$share/" not in log, log
    f = _fault_run(stack, 100_001, (("mosquitto", "restart"),))
    assert f["rows"] == f["distinct_seq"] == f["sent"], f


SCHEDULER = "tcp://dask-scheduler:8786"


def _analyze_in_stack(stack: Stack, scheduler: str) -> str:
    """``occupancy analyze --full`` as the compose file's analytics service
    (its image, network, role and settings) with setting dask_scheduler =
    ``scheduler`` (empty: computed in that container); chunks of 2 days so
    the 5 days are 3 partitions. Its output."""
    return stack.compose(
        "run", "--rm", "--no-deps", "-e", f"OCCUPANCY_DASK_SCHEDULER={scheduler}",
        "-e", "OCCUPANCY_ANALYZE_CHUNK_DAYS=2", "--entrypoint", "occupancy",
        "analytics", "analyze", "--full", stderr=True,
    )  # fmt: skip


def test_analyze_on_the_dask_cluster_equals_a_local_run(stack: Stack) -> None:
    """Profile `scale` started for real: a week of the example building
    (desks, rooms, badge sightings) analyzed on the stack's Dask scheduler
    and its two worker containers, then in the analytics container alone,
    every rollup table emptied before each run: the same rows, table by
    table (count and md5 of the rows)."""
    from stack_data import clear_rollups, load_days, rollup_digest

    workers = stack.replicas("dask-worker")
    assert workers == [stack.container("dask-worker", n) for n in (1, 2)], workers
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=today.weekday() + 14)  # within retention
    events, sightings = load_days(stack, first, first + dt.timedelta(days=4))
    assert events > 50_000 and sightings > 10_000, (events, sightings)
    # The analytics loop would rewrite the same days meanwhile: stopped.
    run_podman("stop", "-t", "5", stack.container("analytics"))
    runs: dict[str, tuple[dict[str, tuple[int, str]], str, float]] = {}
    try:
        for label, scheduler in (("dask", SCHEDULER), ("local", "")):
            clear_rollups(stack)
            t0 = time.monotonic()
            log = _analyze_in_stack(stack, scheduler)
            runs[label] = (rollup_digest(stack), log, time.monotonic() - t0)
    finally:
        run_podman("start", stack.container("analytics"))
    (dask, dask_log, dask_s), (local, local_log, local_s) = runs["dask"], runs["local"]
    stack.timings |= {"analyze_dask_s": dask_s, "analyze_local_s": local_s}
    print(f"\nloaded {events} sensor events and {sightings} badge sightings")
    assert f"on Dask {SCHEDULER} (2 worker thread(s))" in dask_log, dask_log
    assert "on Dask" not in local_log and "analyze failed" not in local_log
    empty = sorted(t for t, (n, _) in local.items() if n == 0)
    assert not empty, f"rollup tables without rows: {empty}"
    assert dask == local
    print(
        f"\nrollups, Dask = local: {json.dumps({t: n for t, (n, _) in dask.items()})}"
    )
