"""The production broker rules, tested on a real Mosquitto started with the
deployment's ACL (deploy/mosquitto/acl.example) and a password file."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.properties import Properties

from app.services import MosquittoServer, free_port

from conftest import ROOT, make_traversable

pytestmark = pytest.mark.integration

USERS = {"ds-a": "pw-a", "ds-b": "pw-b", "ingest": "pw-ingest"}


@pytest.fixture(scope="module")
def secure_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MosquittoServer]:
    base = make_traversable(tmp_path_factory.mktemp("secure"))
    auth = base / "auth"
    auth.mkdir()
    passwd = auth / "passwd"
    exe = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    for i, (user, pw) in enumerate(USERS.items()):
        subprocess.run(
            [exe, "-b", *(["-c"] if i == 0 else []), str(passwd), user, pw], check=True
        )
    acl = auth / "acl"
    shutil.copy(ROOT / "deploy" / "mosquitto" / "acl.example", acl)
    server = MosquittoServer(
        base / "broker", free_port(), password_file=passwd, acl_file=acl
    )
    server.start()
    yield server
    server.stop()


def _client(
    server: MosquittoServer, user: str | None, pw: str | None
) -> tuple[mqtt.Client, mqtt.ReasonCode]:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{user}", protocol=mqtt.MQTTv5
    )
    if user:
        client.username_pw_set(user, pw)
    done = threading.Event()
    result: list[mqtt.ReasonCode] = []

    def on_connect(
        c: mqtt.Client, u: object, flags: object, rc: mqtt.ReasonCode, props: object
    ) -> None:
        result.append(rc)
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", server.port)
    client.loop_start()
    assert done.wait(10), "no CONNACK"
    return client, result[0]


def _publish(client: mqtt.Client, topic: str) -> mqtt.ReasonCode:
    acked = threading.Event()
    codes: list[mqtt.ReasonCode] = []

    def on_publish(
        c: mqtt.Client, u: object, mid: int, rc: mqtt.ReasonCode, props: Properties
    ) -> None:
        codes.append(rc)
        acked.set()

    client.on_publish = on_publish
    client.publish(
        topic, b'{"ts":"2026-03-02T08:00:00Z","seq":1,"occupied":true}', qos=1
    )
    assert acked.wait(10), "no PUBACK"
    return codes[0]


def test_anonymous_clients_are_refused(secure_broker: MosquittoServer) -> None:
    client, rc = _client(secure_broker, None, None)
    client.loop_stop()
    assert rc.is_failure and rc.getName() == "Not authorized"
    client2, rc2 = _client(secure_broker, "ds-a", "wrong")
    client2.loop_stop()
    assert rc2.is_failure


def test_a_device_can_only_publish_under_its_own_topic(
    secure_broker: MosquittoServer,
) -> None:
    ingest, rc = _client(secure_broker, "ingest", USERS["ingest"])
    assert not rc.is_failure
    got: list[str] = []
    subscribed = threading.Event()
    ingest.on_message = lambda c, u, m: got.append(m.topic)
    ingest.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
    ingest.subscribe("occupancy/#", qos=1)
    assert subscribed.wait(10)

    dev, rc = _client(secure_broker, "ds-a", USERS["ds-a"])
    assert not rc.is_failure
    denied = _publish(dev, "occupancy/hq/ds-b/presence")
    assert denied.getName() == "Not authorized"
    allowed = _publish(dev, "occupancy/hq/ds-a/presence")
    assert not allowed.is_failure
    # The allowed message arrives; the forged one never does. Publish a marker
    # after both and wait for it, so "never arrives" is not a guess by timeout.
    marker = _publish(dev, "occupancy/hq/ds-a/heartbeat")
    assert not marker.is_failure
    deadline = threading.Event()
    for _ in range(200):
        if "occupancy/hq/ds-a/heartbeat" in got:
            break
        deadline.wait(0.05)
    assert got == ["occupancy/hq/ds-a/presence", "occupancy/hq/ds-a/heartbeat"]
    # Devices cannot read other devices' data either: Mosquitto grants the
    # subscription but never delivers what the ACL does not let them read.
    spy: list[str] = []
    sub_done = threading.Event()
    dev.on_message = lambda c, u, m: spy.append(m.topic)
    dev.on_subscribe = lambda c, u, mid, rcs, p: sub_done.set()
    dev.subscribe("occupancy/#", qos=1)
    assert sub_done.wait(10)
    other, rc = _client(secure_broker, "ds-b", USERS["ds-b"])
    assert not _publish(other, "occupancy/hq/ds-b/presence").is_failure
    for _ in range(200):
        if "occupancy/hq/ds-b/presence" in got:
            break
        deadline.wait(0.05)
    assert got[-1] == "occupancy/hq/ds-b/presence"  # the ingester got it ...
    assert spy == []  # ... device A did not
    for c in (dev, ingest, other):
        c.disconnect()
        c.loop_stop()


def test_services_start_auth_needs_the_files(tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "--data-dir",
            str(tmp_path),
            "services",
            "start",
            "--auth",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert res.returncode == 1
    assert "mosquitto-auth/passwd" in res.stderr and "docs/deploy.md" in res.stderr
