"""Every real message in ../shared/payloads/device_messages.json decodes to its
stated meaning, or is refused with a reason where the meaning says so.

Expectations are written from each message's ``meaning`` (not from decoder
output), keyed by index and checked against the topic so a reordered file fails
loudly. P = presence, M = motion, B = battery [%], A = availability, BADGE.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ingest.context import DecodeContext
from ingest.registry import decode_message
from occupancy.events import Kind, TsSource
from occupancy.pseudonym import pseudonymise

from conftest import SHARED_PAYLOADS

P, M, B, A, C = Kind.PRESENCE, Kind.MOTION, Kind.BATTERY, Kind.AVAILABILITY, Kind.COUNT
BADGE = Kind.BADGE
KEY = "k"
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

#: index -> (topic, expected): a set of (kind, value) or ("refused", reason).
EXPECTED: dict[int, tuple[str, Any]] = {
    0: ("zigbee2mqtt/0x00158d0001e50d78", {(P, 0.0), (B, 100.0)}),
    1: ("zigbee2mqtt/KeukenMotionSensorMS4", {(P, 1.0), (B, 97.0)}),
    2: (
        "zigbee2mqtt/0x04cf8cdf3c8a82e0",
        {(P, 1.0), (B, 100.0)},
    ),  # state:OFF is not occupancy
    3: ("zigbee2mqtt/meeting_room_fp1", {(P, None)}),  # unknown, never vacant
    4: ("zigbee2mqtt/0x0017880103280b98", {(P, 0.0), (B, 81.5)}),
    5: ("zigbee2mqtt/<deviceid>", {(P, 1.0)}),  # any friendly name is an id
    6: ("zigbee2mqtt/0x000d6ffffe699d8b", {(B, 87.0)}),  # battery only: not vacant
    7: ("zigbee2mqtt/vallhorn", {(P, 1.0), (B, 100.0)}),
    8: ("zigbee2mqtt/0xa4c1382a6b329e9d", {(P, 1.0)}),
    9: ("zigbee2mqtt/0xa4c1383346ff349f", {(P, 1.0)}),
    10: ("zigbee2mqtt/cellar_detector", {(P, 1.0)}),
    11: ("zigbee2mqtt/remote/availability", {(A, 0.0)}),
    12: ("zigbee2mqtt/remote/availability", {(A, 0.0)}),
    13: ("zigbee2mqtt/bridge/state", {(A, 0.0)}),
    14: ("zigbee2mqtt/remote", set()),  # not an occupancy device
    15: ("room_sensor/binary_sensor/room_sensor_status/state", {(A, 0.0)}),
    16: ("esp_spisebord/status", {(A, 1.0)}),
    17: ("esphome-ld2410/binary_sensor/presence/state", {(P, 1.0)}),
    18: ("esphome-office/sensor/co2/state", set()),  # nan: nothing, never 0
    19: ("esphome/discover/esp32-test", set()),
    20: ("tele/tasmota/SENSOR", {(P, 1.0)}),
    21: ("stat/tasmota/PIR1", {(P, 1.0)}),
    22: ("tele/X_SMART_LINK_26A908/SENSOR", {(P, 1.0)}),
    23: ("tele/tasmota/SENSOR", {(P, 1.0)}),  # People=2: detected, not a count
    24: ("stat/tasmota/RESULT", {(P, 1.0)}),
    25: ("tele/tasmota_XXXXXX/LWT", {(A, 0.0)}),
    26: ("tele/ibeacon/SENSOR", set()),  # beacon lost: no sighting
    27: ("tele/tasmota/SENSOR", {(P, 0.0)}),
    28: ("homeassistant/binary_sensor/garden/config", set()),
    29: ("homeassistant/binary_sensor/garden/config", set()),
    30: ("homeassistant/binary_sensor/0x00158d0006f25853/occupancy/config", set()),
    31: ("homeassistant/binary_sensor/0xa4c1382a6b329e9d/presence/config", set()),
    32: ("homeassistant/status", set()),
    33: ("v3/app1@tenant1/devices/dev1/up", ("refused", "no_decoded_payload")),
    34: (
        "v3/starter-kit@docs-test-account/devices/eui-70b3d52dd600035a/up",
        {(M, 1.0)},
    ),
    35: ("v3/workplace-occupancy@ttn/devices/elsys-ers-co2-meeting-3/up", {(M, 1.0)}),
    36: ("v3/workplace-occupancy@ttn/devices/elsys-ems-desk-4-112/up", {(P, 1.0)}),
    37: (
        "v3/workplace-occupancy@ttn/devices/ms-vs133-main-door/up",
        set(),
    ),  # line counters
    38: ("v3/workplace-occupancy@ttn/devices/ms-ws202-phonebooth-1/up", {(M, 1.0)}),
    39: (
        "v3/workplace-occupancy@ttn/devices/ms-vs340-desk-5-031/up",
        {(P, 1.0), (B, 100.0)},
    ),
    40: (
        "v3/workplace-occupancy@ttn/devices/tabs-tbms100-kitchen/up",
        {(P, 1.0)},
    ),  # 3.6 V
    41: (
        "v3/workplace-occupancy@ttn/devices/elsys-ers-eye-3f-east/up",
        ("refused", "simulated"),
    ),
    42: ("home/OpenMQTTGateway/BTtoMQTT/45E174126E00", {(BADGE, None)}),
    43: ("home/OpenMQTTGateway/BTtoMQTT/58782076BC24", {(BADGE, None)}),
    44: ("home/presence/OpenMQTTGateway", {(BADGE, None)}),
    45: ("home/OpenMQTTGateway/LWT", {(A, 1.0)}),
    46: ("home/OpenMQTTGateway/BTtoMQTT/4C33A6603C79", set()),
    47: ("home/OpenMQTTGateway/BTtoMQTT/45E174126E00", {(BADGE, None)}),
    48: ("home/OpenMQTTGateway1/HCSR501toMQTT", {(P, 1.0)}),
    49: ("shellies/shellymotionsensor-60A42386E566/status", {(P, 1.0), (B, 97.0)}),
    50: ("shellyplus1-a8032ab12345/events/rpc", {(P, 1.0)}),
    51: ("spBv1.0/STATE/scada-host-1", set()),
    52: (
        "spBv1.0/Workplace/DDATA/pi-gateway-01/desk-sensor-12",
        ("refused", "unsupported_format"),
    ),
    53: ("devices/SIPG-10-004/messages/events/", {(P, 0.0)}),
    54: ("devices/SIPG-10-004/messages/events/", {(P, 1.0)}),
}

#: Devices that discovery/availability messages must announce (unassigned).
DISCOVERS = {
    11: "remote",
    16: "esp_spisebord",
    19: "esp32-test",
    25: "tasmota_XXXXXX",
    28: "garden",
    30: "0x00158d0006f25853",
    31: "desk_radar_12",
    45: "OpenMQTTGateway",
}


def _samples() -> list[dict[str, Any]]:
    if not SHARED_PAYLOADS.exists():
        pytest.skip(f"{SHARED_PAYLOADS} not present")
    data: list[dict[str, Any]] = json.loads(SHARED_PAYLOADS.read_text("utf-8"))
    return data


def _ctx() -> DecodeContext:
    return DecodeContext(tz=ZoneInfo("Europe/Amsterdam"), pseudonym_key=KEY)


def test_every_sample_has_an_expectation() -> None:
    samples = _samples()
    assert len(samples) == len(EXPECTED) == 55
    for i, s in enumerate(samples):
        assert s["topic"] == EXPECTED[i][0], f"sample {i} moved: {s['topic']}"


@pytest.mark.parametrize("index", sorted(EXPECTED))
def test_sample_decodes_to_its_meaning(index: int) -> None:
    sample = _samples()[index]
    result = decode_message(sample["topic"], sample["payload"].encode(), NOW, _ctx())
    expected = EXPECTED[index][1]
    if isinstance(expected, tuple):
        assert result.rejection is not None, result
        assert result.rejection.reason == expected[1]
        return
    assert result.rejection is None, result.rejection
    assert {(e.kind, e.value) for e in result.events} == expected
    assert len(result.events) == len(expected)
    if index in DISCOVERS:
        assert DISCOVERS[index] in {d.device_id for d in result.discovered}


def test_redacted_zigbee_leaf_substituted_decodes() -> None:
    sample = _samples()[5]
    result = decode_message(
        "zigbee2mqtt/hue_1", sample["payload"].encode(), NOW, _ctx()
    )
    assert {(e.kind, e.value) for e in result.events} == {(P, 1.0)}


def test_sample_badges_use_the_documented_identity() -> None:
    s = _samples()
    ctx = _ctx()
    mac = decode_message(s[42]["topic"], s[42]["payload"].encode(), NOW, ctx).events[0]
    # The MAC, however spelled, is the id when there is no iBeacon uuid.
    assert mac.badge == pseudonymise(KEY, "45E174126E00")
    assert mac.rssi == -89.0
    # iBeacons: uuid/major/minor, not the randomised MAC - the same badge in 43 and 44.
    b43 = decode_message(s[43]["topic"], s[43]["payload"].encode(), NOW, ctx).events[0]
    b44 = decode_message(s[44]["topic"], s[44]["payload"].encode(), NOW, ctx).events[0]
    assert (
        b43.badge
        == b44.badge
        == pseudonymise(KEY, "1de4b189115e45f6b44e509352269977/0/0")
    )


def test_sample_timestamps_follow_family_conventions() -> None:
    s = _samples()
    ctx = _ctx()

    def at(i: int, received_at: dt.datetime) -> tuple[dt.datetime, TsSource, int]:
        e = decode_message(
            s[i]["topic"], s[i]["payload"].encode(), received_at, ctx
        ).events[0]
        return e.ts, e.ts_source, e.seq

    utc = dt.UTC
    # z2m last_seen ISO with ms and Z.
    t = dt.datetime(2024, 9, 7, 15, 54, 41, 147000, tzinfo=utc)
    assert at(8, t) == (t, TsSource.DEVICE, -1)
    # Tasmota local time without zone, Amsterdam in January = UTC+1.
    assert at(20, dt.datetime(2021, 1, 1, 0, 0, tzinfo=utc))[0] == dt.datetime(
        2020, 12, 31, 23, 0, 1, tzinfo=utc
    )
    # Tasmota Epoch (UTC seconds) wins over local Time: 1567600289 = 12:31:29Z.
    assert at(27, dt.datetime(2019, 9, 4, 12, 31, tzinfo=utc))[0] == dt.datetime(
        2019, 9, 4, 12, 31, 29, tzinfo=utc
    )
    # TTS received_at with 9 fraction digits, f_cnt as seq.
    assert at(38, dt.datetime(2025, 3, 4, 9, 23, tzinfo=utc)) == (
        dt.datetime(2025, 3, 4, 9, 23, 0, 918273, tzinfo=utc),
        TsSource.DEVICE,
        301,
    )
    # Shelly Gen2 params.ts float seconds: 1680962879.62.
    assert at(50, dt.datetime(2023, 4, 8, 14, 8, tzinfo=utc))[0] == dt.datetime(
        2023, 4, 8, 14, 7, 59, 620000, tzinfo=utc
    )
    # Pressac 'YYYY-MM-DD HH:MM:SS' local (Amsterdam, December = UTC+1).
    assert at(54, dt.datetime(2019, 12, 3, 13, 10, tzinfo=utc))[0] == dt.datetime(
        2019, 12, 3, 13, 9, 34, tzinfo=utc
    )
    # Far behind arrival (2024 vs 2026): kept, flagged late.
    assert at(8, NOW)[:2] == (t, TsSource.LATE)
    # Ahead of arrival (arrival in 2023): the clock is wrong; arrival used, flagged.
    early = dt.datetime(2023, 1, 1, tzinfo=utc)
    assert at(8, early)[:2] == (early, TsSource.CORRECTED)
