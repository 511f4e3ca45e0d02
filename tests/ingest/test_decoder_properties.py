"""Property tests for the vendor families: any JSON a formatter, bridge or
gateway might send, on each family's topics, gives events or a Rejection,
never an exception; BLE ids never leave a decoder raw."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.context import DecodeContext
from ingest.registry import decode_message
from occupancy.events import Kind

CTX = DecodeContext(pseudonym_key="k", max_clock_skew_s=0)
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
KEYS = st.sampled_from(
    [
        "occupancy", "Occupy", "presence", "people", "people_counter_all",
        "region_1", "region_1_enable", "region_2_occupancy", "battery", "status",
        "motion", "pir", "count", "time", "Cmd", "errors", "bytes", "vdd",
        "presence_state", "presence_event", "target_distance", "occupancy_1",
        "Switch1", "Button1", "ZbReceived", "IBEACON", "d2cMessage", "deviceId",
        "motionDetected", "params", "method", "events", "id", "rssi", "pres",
        "state", "object", "deviceInfo", "uplink_message", "decoded_payload",
    ]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["ON", "OFF", "occupied", "vacant", "none", "trigger", "x"])
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6)
    ),
    max_leaves=25,
)
TOPICS = st.sampled_from(
    [
        "zigbee2mqtt/Desk 1",
        "zigbee2mqtt/floor 1/desk 2/availability",
        "zigbee2mqtt/bridge/devices",
        "v3/app@t/devices/d 1/up",
        "application/1/device/0011/event/up",
        "app/devices/d1/up",
        "espresense/devices/irk:1/kitchen",
        "espresense/rooms/kitchen",
        "home_presence/lobby",
        "home/gw/BTtoMQTT/AABB",
        "stat/t1/RESULT",
        "tele/t1/SENSOR",
        "shellyplus1-1/events/rpc",
        "shellyplus1-1/status/input:0",
        "devices/gw/messages/events/",
        "homeassistant/binary_sensor/n/o/config",
        "homeassistant/device/n/config",
        "office/mr3/motion",
    ]
)


def _wrap(topic: str, obj: Any) -> Any:
    if topic.startswith("v3/"):
        return {"uplink_message": {"decoded_payload": obj}}
    if topic.startswith("application/"):
        return {"deviceInfo": {"deviceName": "d"}, "object": obj}
    return obj


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic=TOPICS, obj=JSON)
def test_any_json_on_family_topics_never_raises(topic: str, obj: Any) -> None:
    payload = json.dumps(_wrap(topic, obj)).encode()
    r = decode_message(topic, payload, NOW, CTX)
    assert r.rejection is None or r.rejection.reason != "internal_error", r.rejection
    for e in r.events:
        assert e.value is None or e.value == e.value  # never NaN
        if e.kind is Kind.BADGE:
            assert e.badge is not None and len(e.badge) >= 16
