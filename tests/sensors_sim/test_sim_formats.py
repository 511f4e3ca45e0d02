"""Encoders of the other device families: topics and payloads written out by
hand from each family's conventions (docs/simulator.md, payload samples)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from sensors_sim import Scenario, simulate
from sensors_sim.formats import esphome, openmqttgateway, tasmota, ttn, zigbee2mqtt

TS = 1772439303120  # 2026-03-02T08:15:03.120Z = 09:15:03 in Amsterdam
CTX = {"tz": ZoneInfo("Europe/Amsterdam")}


def test_zigbee2mqtt() -> None:
    [(t, p, r)] = zigbee2mqtt.encode("desk-7", "presence", TS, 1.0, 3, "", CTX)
    assert t == "zigbee2mqtt/desk-7" and not r
    assert json.loads(p)["occupancy"] is True and "linkquality" in json.loads(p)
    [(t, p, r)] = zigbee2mqtt.encode("desk-7", "status", TS, 0.0, 4, "", CTX)
    assert (t, p, r) == (
        "zigbee2mqtt/desk-7/availability",
        b'{"state": "offline"}',
        True,
    )


def test_esphome() -> None:
    assert esphome.encode("esp-1", "heartbeat", TS, 0.0, 1, "", CTX) == [
        ("esp-1/binary_sensor/presence/state", b"OFF", True)
    ]
    assert esphome.encode("esp-1", "count", TS, 4.0, 1, "", CTX) == [
        ("esp-1/sensor/people/state", b"4", True)
    ]
    assert esphome.encode("esp-1", "status", TS, 1.0, 1, "", CTX) == [
        ("esp-1/status", b"online", True)
    ]


def test_tasmota_local_time_without_zone() -> None:
    [(t, p, _r)] = tasmota.encode("tas-1", "presence", TS, 1.0, 1, "", CTX)
    assert t == "tele/tas-1/SENSOR"
    assert p == b'{"Time":"2026-03-02T09:15:03","Switch1":"ON"}'
    assert tasmota.encode("tas-1", "status", TS, 0.0, 1, "", CTX) == [
        ("tele/tas-1/LWT", b"Offline", True)
    ]


def test_ttn_uplink() -> None:
    [(t, p, _r)] = ttn.encode("elsys-1", "count", TS, 3.0, 812, "", CTX)
    assert t == "v3/workplace-occupancy@ttn/devices/elsys-1/up"
    body = json.loads(p)
    assert body["received_at"] == "2026-03-02T08:15:03.120Z"
    assert body["uplink_message"]["f_cnt"] == 812
    assert body["uplink_message"]["decoded_payload"] == {"people_count": 3}
    assert body["end_device_ids"]["device_id"] == "elsys-1"
    assert ttn.encode("elsys-1", "status", TS, 0.0, 1, "", CTX) == []


def test_openmqttgateway_one_message_per_beacon() -> None:
    beacons = (
        '{"id":"c0:ff:ee:00:01:2a","rssi":-70},{"id":"c0:ff:ee:00:00:07","rssi":-81}'
    )
    out = openmqttgateway.encode("omg-1", "ble", TS, 2.0, 1, beacons, CTX)
    assert out == [
        (
            "home/omg-1/BTtoMQTT/C0FFEE00012A",
            b'{"id":"c0:ff:ee:00:01:2a","rssi":-70}',
            False,
        ),
        (
            "home/omg-1/BTtoMQTT/C0FFEE000007",
            b'{"id":"c0:ff:ee:00:00:07","rssi":-81}',
            False,
        ),
    ]


def test_family_per_device_in_the_building(example_site: Any) -> None:
    fam = {
        "ds-f1-finance-d001": "zigbee2mqtt",
        "rc-f0-r04": "ttn",
        "ble-f0-cafe": "openmqttgateway",
    }
    devices = tuple(
        dataclasses.replace(d, family=fam.get(d.id, d.family))
        for d in example_site.devices
    )
    site = dataclasses.replace(example_site, devices=devices)
    r = simulate(
        site,
        Scenario().replace(sensors={"desk_heartbeat_s": 3600}),
        dt.date(2026, 3, 3),
        1,
        seed=3,
    )
    m = r.messages
    z = m[m["device_id"] == "ds-f1-finance-d001"]
    assert set(z["topic"]) <= {
        "zigbee2mqtt/ds-f1-finance-d001",
        "zigbee2mqtt/ds-f1-finance-d001/availability",
    }
    t = m[(m["device_id"] == "rc-f0-r04")]
    assert set(t["topic"]) == {"v3/workplace-occupancy@ttn/devices/rc-f0-r04/up"}
    o = m[(m["device_id"] == "ble-f0-cafe") & (m["kind"] == "ble")]
    assert (
        len(o) and o["topic"].str.startswith("home/ble-f0-cafe/BTtoMQTT/C0FFEE").all()
    )
    assert (o["expected"] == "ble:1").all()
    own = m[m["device_id"] == "ds-f1-finance-d002"]
    assert own["topic"].str.startswith("occupancy/hq/ds-f1-finance-d002/").all()
