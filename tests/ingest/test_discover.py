"""``occupancy devices discover`` against the simulator publishing in every
family through a real Mosquitto: each device is proposed with its family,
kinds and space; BLE payloads are withheld; the YAML fragment loads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from app.cli import main
from ingest.context import DecodeContext
from ingest.discover import WITHHELD, Collector, listen, proposals, yaml_fragment
from ingest.registry import decode_message
from occupancy.building import Device, Site, parse_building
from occupancy.settings import parse_mqtt_url
from sensors_sim import Scenario, simulate
from sensors_sim.publish import publish

ROOT = Path(__file__).resolve().parents[2]

#: (device id as an installer would name it, family, kind, space or zone,
#: kinds discover must report)
FLEET = [
    (
        "f0 operations d001 motion",
        "zigbee2mqtt",
        "desk_sensor",
        "f0-operations-d001",
        {"presence"},
    ),
    (
        "f0-operations-d002-radar",
        "esphome",
        "desk_sensor",
        "f0-operations-d002",
        {"presence"},
    ),
    (
        "f0_operations_d003",
        "tasmota",
        "desk_sensor",
        "f0-operations-d003",
        {"presence"},
    ),
    (
        "shellyplus1 f0 operations d004",
        "shelly",
        "desk_sensor",
        "f0-operations-d004",
        {"presence", "availability"},
    ),
    (
        "f0-operations-d005",
        "pressac",
        "desk_sensor",
        "f0-operations-d005",
        {"presence"},
    ),
    (
        "f0-operations-d006",
        "homeassistant",
        "desk_sensor",
        "f0-operations-d006",
        {"presence", "availability"},
    ),
    (
        "ds-f0-operations-d007",
        "occupancy",
        "desk_sensor",
        "f0-operations-d007",
        {"heartbeat", "availability"},
    ),
    ("f0-operations-d008", "mqtt", "desk_sensor", "f0-operations-d008", {"presence"}),
    ("rc-f0-r01", "ttn", "room_counter", "f0-r01", {"count"}),
    ("f0-r02 people counter", "chirpstack", "room_counter", "f0-r02", {"count"}),
    (
        "ble f0 operations",
        "openmqttgateway",
        "ble_scanner",
        "f0-operations",
        {"badge", "availability"},
    ),
    (
        "HR neighbourhood",
        "espresense",
        "ble_scanner",
        "f0-hr",
        {"badge", "availability"},
    ),
]


@pytest.fixture(scope="module")
def fleet(example_site: Site) -> tuple[Site, pd.DataFrame]:
    devices = tuple(
        Device(
            name,
            kind,
            fam,
            space_id=None if kind.endswith(("scanner", "zone_counter")) else sp,
            zone_id=sp if kind == "ble_scanner" else None,
        )
        for name, fam, kind, sp, _ in FLEET
    )
    site = dataclasses.replace(example_site, devices=devices)
    r = simulate(site, Scenario(), dt.date(2026, 3, 3), 1, seed=7)
    return site, r.messages


def test_every_simulated_family_decodes(fleet: tuple[Site, pd.DataFrame]) -> None:
    _, m = fleet
    ctx = DecodeContext(pseudonym_key="k", max_clock_skew_s=0, topic_root="occupancy")
    now = dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC)
    clean = m[m["fault"].astype(str) != "malformed"]
    refused = [
        (t, decode_message(t, p, now, ctx).rejection)
        for t, p in zip(clean["topic"], clean["payload"], strict=True)
    ]
    bad = [(t, r) for t, r in refused if r is not None]
    assert not bad, bad[:5]
    assert set(m["device_id"].astype(str)) == {f[0] for f in FLEET}


def _clear_retained(url: str, topics: set[str]) -> None:
    u = parse_mqtt_url(url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="discover-test-clean")
    if u.username:
        c.username_pw_set(u.username, u.password)
    c.connect(u.host, u.port)
    c.loop_start()
    infos = [c.publish(t, b"", qos=1, retain=True) for t in topics]
    for info in infos:
        info.wait_for_publish(10)
    c.disconnect()
    c.loop_stop()


@pytest.mark.integration
def test_discover_proposes_every_device(
    mqtt_server: Any, fleet: tuple[Site, pd.DataFrame], tmp_path: Path
) -> None:
    site, m = fleet
    collector = Collector(site.timezone)
    ready, stop = threading.Event(), threading.Event()
    url = parse_mqtt_url(mqtt_server.url)
    listener = threading.Thread(
        target=listen,
        args=(url, ["#"], 120.0, collector),
        kwargs={"on_ready": ready.set, "stop": stop},
    )
    listener.start()
    try:
        assert ready.wait(15)
        publish(m, mqtt_server.url, backfill=True, progress=False, window=200)
        # a last message: once it is heard, everything before it was too
        end = pd.DataFrame(
            {
                "send_at": [m["send_at"].max()],
                "topic": ["discover-test/end"],
                "payload": [b"end"],
                "retain": [False],
            }
        )
        publish(end, mqtt_server.url, backfill=True, progress=False)
        deadline = dt.datetime.now() + dt.timedelta(seconds=60)
        while "discover-test" not in collector.unknown_topics:
            assert dt.datetime.now() < deadline, "the last message never arrived"
            stop.wait(0.05)
    finally:
        stop.set()
        listener.join(30)
    assert collector.messages >= len(m)
    bare = dataclasses.replace(site, devices=())
    props = {p.device_id: p for p in proposals(collector, bare)}
    for name, fam, kind, space, kinds in FLEET:
        p = props[name]
        assert p.family == fam, name
        assert kinds <= set(p.kinds), (name, p.kinds)
        assert p.space == space, (name, p.space, p.score)
        assert p.device_kind == kind, name
        assert not p.known
        if "badge" in p.kinds:
            assert p.last_payload == WITHHELD
        else:
            assert p.last_payload and WITHHELD not in p.last_payload
    # the fragment merges into the building file and loads
    fragment = yaml.safe_load(yaml_fragment(props.values(), "test"))
    ours = [d for d in fragment["devices"] if d["id"] in {f[0] for f in FLEET}]
    data = yaml.safe_load((ROOT / "examples" / "office.yaml").read_text("utf-8"))
    data["devices"] = ours
    merged = parse_building(data)
    assert {d.id: d.family for d in merged.devices} == {f[0]: f[1] for f in FLEET}
    _clear_retained(mqtt_server.url, set(m.loc[m["retain"], "topic"].astype(str)))


@pytest.mark.integration
def test_cli_discover_writes_the_fragment(mqtt_server: Any, tmp_path: Path) -> None:
    u = parse_mqtt_url(mqtt_server.url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="discover-test-pub")
    if u.username:
        c.username_pw_set(u.username, u.password)
    c.connect(u.host, u.port)
    c.loop_start()
    topic = "zigbee2mqtt/Ground phone booth 1 sensor/availability"
    c.publish(topic, b'{"state":"online"}', qos=1, retain=True).wait_for_publish(10)
    out = tmp_path / "found.yaml"
    try:
        res = CliRunner().invoke(
            main,
            [
                "devices",
                "discover",
                "--seconds",
                "1",
                "--mqtt-url",
                mqtt_server.url,
                "--building",
                str(ROOT / "examples" / "office.yaml"),
                "--topic",
                "zigbee2mqtt/#",
                "--output",
                str(out),
            ],
        )
    finally:
        c.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)
        c.disconnect()
        c.loop_stop()
    assert res.exit_code == 0, res.output
    assert "'Ground phone booth 1 sensor' [zigbee2mqtt] NEW" in res.output
    entry = [
        d
        for d in yaml.safe_load(out.read_text("utf-8"))["devices"]
        if d["id"] == "Ground phone booth 1 sensor"
    ]
    assert entry == [
        {
            "id": "Ground phone booth 1 sensor",
            "kind": "room_counter",
            "family": "zigbee2mqtt",
            "space": "f0-r01",
        }
    ]
