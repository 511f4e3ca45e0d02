"""Pure decoders: our format, timestamps, hostile payloads, family conventions.
Expected values are worked out by hand in each case."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from ingest.context import DecodeContext, DeviceInfo
from ingest.registry import decode, decode_message
from ingest.timestamps import parse_timestamp, resolve_ts
from occupancy.events import Event, Kind, Rejection, TsSource
from occupancy.pseudonym import pseudonymise

AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 3, 2, 8, 15, 10, tzinfo=dt.UTC)
CTX = DecodeContext(tz=AMS, pseudonym_key="k", topic_root="a/b/occupancy", site="hq")
T = "a/b/occupancy/hq/desk-1"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def ok(topic: str, payload: str | bytes, ctx: DecodeContext = CTX) -> list[Event]:
    raw = payload.encode() if isinstance(payload, str) else payload
    out = decode(topic, raw, NOW, ctx)
    assert isinstance(out, list), out
    return out


def refused(topic: str, payload: str | bytes, ctx: DecodeContext = CTX) -> str:
    raw = payload.encode() if isinstance(payload, str) else payload
    out = decode(topic, raw, NOW, ctx)
    assert isinstance(out, Rejection), out
    return out.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T08:15:03.120Z", utc(2026, 3, 2, 8, 15, 3, 120000)),
        ("2026-03-02T08:15:03.123456789Z", utc(2026, 3, 2, 8, 15, 3, 123456)),
        ("2026-03-02T09:15:03+01:00", utc(2026, 3, 2, 8, 15, 3)),
        ("2026-03-02T09:15:03+0100", utc(2026, 3, 2, 8, 15, 3)),
        # Local time without zone: Amsterdam is UTC+1 in March (before DST).
        ("2026-03-02T09:15:03", utc(2026, 3, 2, 8, 15, 3)),
        # ... and UTC+2 in July.
        ("2026-07-01 10:00:00", utc(2026, 7, 1, 8, 0, 0)),
        (1772439300000, utc(2026, 3, 2, 8, 15, 0)),  # epoch ms
        (1772439300, utc(2026, 3, 2, 8, 15, 0)),  # epoch s
        (1772439300.5, utc(2026, 3, 2, 8, 15, 0, 500000)),
    ],
)
def test_timestamps(text: object, expected: dt.datetime) -> None:
    assert parse_timestamp(text, AMS) == expected


@pytest.mark.parametrize(
    "bad", ["yesterday", "2026-13-01T00:00:00Z", True, -5, [1], 1e300]
)
def test_bad_timestamps_are_refused(bad: object) -> None:
    out = parse_timestamp(bad, AMS)
    assert isinstance(out, Rejection) and out.reason == "bad_timestamp"


def test_clock_skew_is_corrected_and_flagged() -> None:
    # 301 s ahead of arrival with a 300 s limit: arrival time, flagged.
    assert resolve_ts("2026-03-02T08:20:11Z", NOW, AMS, 300) == (
        NOW,
        TsSource.CORRECTED,
    )
    # 299 s behind: trusted.
    assert resolve_ts("2026-03-02T08:10:11Z", NOW, AMS, 300) == (
        utc(2026, 3, 2, 8, 10, 11),
        TsSource.DEVICE,
    )
    # 301 s behind: a late delivery keeps its time, flagged.
    assert resolve_ts("2026-03-02T08:10:09Z", NOW, AMS, 300) == (
        utc(2026, 3, 2, 8, 10, 9),
        TsSource.LATE,
    )
    assert resolve_ts(None, NOW, AMS, 300) == (NOW, TsSource.ARRIVAL)
    # 0 disables the check (replays of recorded data).
    assert resolve_ts("2020-01-01T00:00:00Z", NOW, AMS, 0)[1] is TsSource.DEVICE  # type: ignore[index]


def test_our_format_each_kind() -> None:
    [e] = ok(
        f"{T}/presence", '{"ts":"2026-03-02T08:15:03.120Z","seq":1234,"occupied":true}'
    )
    assert (e.kind, e.value, e.seq, e.ts, e.ts_source) == (
        Kind.PRESENCE,
        1.0,
        1234,
        utc(2026, 3, 2, 8, 15, 3, 120000),
        TsSource.DEVICE,
    )
    [e] = ok(f"{T}/presence", '{"seq":1,"occupied":null}')
    assert (e.value, e.ts, e.ts_source) == (None, NOW, TsSource.ARRIVAL)
    hb, bat = ok(f"{T}/heartbeat", '{"seq":2,"occupied":false,"battery":87}')
    assert (hb.kind, hb.value, bat.kind, bat.value) == (
        Kind.HEARTBEAT,
        0.0,
        Kind.BATTERY,
        87.0,
    )
    [e] = ok(f"{T}/count", '{"ts":1772439300000,"seq":88,"count":4}')
    assert (e.kind, e.value, e.ts) == (Kind.COUNT, 4.0, utc(2026, 3, 2, 8, 15))
    [e] = ok(f"{T}/battery", '{"seq":1,"battery":64}')
    assert (e.kind, e.value) == (Kind.BATTERY, 64.0)
    [e] = ok(f"{T}/status", "offline")
    assert (e.kind, e.value, e.ts_source) == (Kind.AVAILABILITY, 0.0, TsSource.ARRIVAL)
    [b] = ok(f"{T}/ble", '{"seq":9,"beacons":[{"id":"badge-0042","rssi":-67}]}')
    assert (b.kind, b.badge, b.rssi) == (
        Kind.BADGE,
        pseudonymise("k", "badge-0042"),
        -67.0,
    )
    assert "badge-0042" not in json.dumps(b.as_json())


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (f"{T}/presence", b"x" * 70000, "too_large"),
        (f"{T}/presence", b'{"occupied":true,"x":"\xff"}', "invalid_utf8"),
        (f"{T}/presence", b'{"occupied":true,"x":"\x00"}', "nul_character"),
        (f"{T}/presence", '{"occupied":true,"v":NaN}', "non_finite_number"),
        (f"{T}/presence", '{"occupied":true,"v":-Infinity}', "non_finite_number"),
        (f"{T}/presence", '{"occupied":true,"v":1e999}', "huge_number"),
        (f"{T}/count", '{"count":' + "9" * 5000 + "}", "huge_number"),
        (f"{T}/presence", "[" * 100 + "]" * 100, "too_deep"),
        (f"{T}/presence", "[" * 50000, "too_deep"),
        (f"{T}/presence", "{nope", "bad_json"),
        (f"{T}/presence", "[1,2]", "bad_json"),
        (f"{T}/presence", '{"device_id":"desk-2","occupied":true}', "device_mismatch"),
        (f"{T}/presence", '{"occupied":"maybe"}', "bad_value"),
        (f"{T}/presence", '{"seq":1}', "missing_field"),
        (f"{T}/count", '{"count":-1}', "bad_value"),
        (f"{T}/count", '{"count":2.5}', "bad_value"),
        (f"{T}/battery", '{"battery":101}', "bad_value"),
        (f"{T}/presence", '{"seq":"7","occupied":true}', "bad_value"),
        (f"{T}/presence", '{"ts":"soon","occupied":true}', "bad_timestamp"),
        (f"{T}/ble", '{"beacons":[{"rssi":-50}]}', "bad_value"),
        (f"{T}/status", "maybe", "bad_value"),
        (f"{T}/teleport", "{}", "unknown_kind"),
        (
            "a/b/occupancy/other-site/desk-1/presence",
            '{"occupied":true}',
            "unknown_site",
        ),
        ("a/b/occupancy/hq/presence", '{"occupied":true}', "bad_topic"),
        ("nobody/knows/this", "{}", "unknown_topic"),
        ("spBv1.0/G/DDATA/node/dev", b"\x08\x01\x12", "unsupported_format"),
    ],
)
def test_hostile_and_wrong_messages_are_refused_with_a_reason(
    topic: str, payload: str | bytes, reason: str
) -> None:
    assert refused(topic, payload) == reason


def test_ble_without_key_is_refused() -> None:
    ctx = DecodeContext(topic_root="a/b/occupancy", site="hq")
    assert (
        refused(f"{T}/ble", '{"beacons":[{"id":"b1","rssi":-50}]}', ctx)
        == "no_pseudonym_key"
    )


def test_device_lookup_unknown_unassigned_and_topic_override() -> None:
    devices = [
        DeviceInfo("desk-1", "desk_sensor", space_id="d1"),
        DeviceInfo("found-1", assigned=False, family="zigbee2mqtt"),
        DeviceInfo(
            "desk-9", "desk_sensor", family="zigbee2mqtt", topic="zigbee2mqtt/Desk Nine"
        ),
    ]
    ctx = DecodeContext.from_devices(
        devices, tz=AMS, topic_root="a/b/occupancy", site="hq"
    )
    assert (
        refused("a/b/occupancy/hq/desk-2/presence", '{"occupied":true}', ctx)
        == "unknown_device"
    )
    assert (
        refused("zigbee2mqtt/found-1", '{"occupancy":true}', ctx) == "unassigned_device"
    )
    # Availability of a discovered device is kept: it says nothing about occupancy.
    [e] = ok("zigbee2mqtt/found-1/availability", "online", ctx)
    assert e.kind is Kind.AVAILABILITY
    # A friendly name that is not a valid id, mapped by the device's topic.
    [e] = ok("zigbee2mqtt/Desk Nine", '{"occupancy":false}', ctx)
    assert (e.device_id, e.value) == ("desk-9", 0.0)


def test_battery_or_availability_only_never_means_vacant() -> None:
    for topic, payload in [
        ("zigbee2mqtt/desk_7", '{"battery":87,"linkquality":23}'),
        ("zigbee2mqtt/desk_7/availability", '{"state":"offline"}'),
        ("tele/desk_7/LWT", "Offline"),
        ("desk_7/status", "offline"),
        (f"{T}/battery", '{"battery":12}'),
        (f"{T}/status", "offline"),
    ]:
        assert all(
            e.kind not in (Kind.PRESENCE, Kind.COUNT) for e in ok(topic, payload)
        ), topic


def test_family_conventions_by_hand() -> None:
    # zigbee2mqtt last_seen (ISO) is the event time.
    [e] = ok("zigbee2mqtt/r1", '{"presence":true,"last_seen":"2026-03-02T08:14:00.5Z"}')
    assert (e.ts, e.ts_source) == (utc(2026, 3, 2, 8, 14, 0, 500000), TsSource.DEVICE)
    # Tasmota local Time (Amsterdam, UTC+1 in March); Epoch wins over Time.
    [e] = ok("tele/pir1/SENSOR", '{"Time":"2026-03-02T09:14:00","Switch1":"OFF"}')
    assert (e.ts, e.value) == (utc(2026, 3, 2, 8, 14), 0.0)
    [e] = ok(
        "tele/pir1/SENSOR",
        '{"Time":"2026-03-02T01:00:00","Epoch":1772439240,"Switch1":"ON"}',
    )
    assert (e.ts, e.value) == (utc(2026, 3, 2, 8, 14), 1.0)
    # ESPHome: nan is no value; a people counter sensor is a count.
    assert ok("node1/sensor/people_count/state", "nan") == []
    [e] = ok("node1/sensor/people_count/state", "3")
    assert (e.kind, e.value) == (Kind.COUNT, 3.0)
    # Elsys occupancy 1 = pending: unknown, not occupied.
    up = {
        "end_device_ids": {"device_id": "e1"},
        "received_at": "2026-03-02T08:15:00.123456789Z",
        "uplink_message": {
            "f_cnt": 5,
            "decoded_payload": {"occupancy": 1},
            "version_ids": {"brand_id": "elsys"},
        },
    }
    [e] = ok("v3/app@ttn/devices/e1/up", json.dumps(up))
    assert (e.kind, e.value, e.seq, e.ts) == (
        Kind.PRESENCE,
        None,
        5,
        utc(2026, 3, 2, 8, 15, 0, 123456),
    )
    up["end_device_ids"] = {"device_id": "e2"}
    assert refused("v3/app@ttn/devices/e1/up", json.dumps(up)) == "device_mismatch"


def test_decoder_crash_becomes_a_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import registry

    def boom(*args: object) -> object:
        raise ZeroDivisionError("bug")

    fam = registry.FAMILIES[0]
    monkeypatch.setattr(
        registry, "FAMILIES", (registry.Family(fam.name, fam.matches, boom),)
    )  # type: ignore[arg-type]
    out = decode_message(f"{T}/presence", b"{}", NOW, CTX)
    assert out.rejection is not None and out.rejection.reason == "internal_error"
