"""Device ids as installers write them: stored verbatim, matched to the
building file exactly, refused only when unusable; sub-topics never devices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from ingest.context import DecodeContext, DeviceInfo
from ingest.registry import decode_message
from occupancy.building import BuildingError, load_building
from occupancy.device_ids import MAX_DEVICE_ID_CHARS, device_id_problem
from occupancy.events import Kind

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
ANY = DecodeContext()
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("topic", "device"),
    [
        ("zigbee2mqtt/Meeting Room 2 Motion", "Meeting Room 2 Motion"),
        ("zigbee2mqtt/floor 1/desk 12", "floor 1/desk 12"),
        (
            "zigbee2mqtt/Vergaderruimte Ø 3 — bewegingsmelder",
            "Vergaderruimte Ø 3 — bewegingsmelder",
        ),
        ("zigbee2mqtt/ desk 7 ", " desk 7 "),
        ("zigbee2mqtt/AA:BB:cc:dd:ee:ff", "AA:BB:cc:dd:ee:ff"),
        ("zigbee2mqtt/会议室", "会议室"),
    ],
)
def test_friendly_names_are_device_ids_verbatim(topic: str, device: str) -> None:
    r = decode_message(topic, b'{"occupancy":true}', NOW, ANY)
    assert r.rejection is None
    assert [(e.device_id, e.kind, e.value) for e in r.events] == [
        (device, Kind.PRESENCE, 1.0)
    ]


@pytest.mark.parametrize(
    ("topic", "payload", "events", "device"),
    [
        (
            "zigbee2mqtt/floor 1/desk 12/availability",
            b"online",
            [(Kind.AVAILABILITY, 1.0)],
            "floor 1/desk 12",
        ),
        (
            "zigbee2mqtt/Desk 3/availability",
            b'{"state":"offline"}',
            [(Kind.AVAILABILITY, 0.0)],
            "Desk 3",
        ),
        ("zigbee2mqtt/Desk 3/set", b'{"occupancy_timeout":60}', [], None),
        ("zigbee2mqtt/Desk 3/get", b'{"occupancy":""}', [], None),
        ("zigbee2mqtt/Desk 3/set/occupancy_timeout", b"60", [], None),
        ("zigbee2mqtt/bridge/info", b'{"version":"2.1.0"}', [], None),
        ("zigbee2mqtt/bridge/logging", b'{"level":"info","message":"x"}', [], None),
        ("zigbee2mqtt/bridge/response/device/rename", b'{"status":"ok"}', [], None),
        ("zigbee2mqtt/Desk 3/occupancy", b"true", [(Kind.PRESENCE, 1.0)], "Desk 3"),
        (
            "zigbee2mqtt/Desk 3/presence_state",
            b"none",
            [(Kind.PRESENCE, 0.0)],
            "Desk 3",
        ),
    ],
)
def test_sub_topics_are_never_a_device(
    topic: str, payload: bytes, events: list[tuple[Kind, float]], device: str | None
) -> None:
    r = decode_message(topic, payload, NOW, ANY)
    assert r.rejection is None
    assert [(e.kind, e.value) for e in r.events] == events
    assert {e.device_id for e in r.events} == ({device} if device else set())
    if not events:
        assert r.note  # says why nothing is stored


def test_unusable_ids_are_refused_with_the_reason() -> None:
    assert device_id_problem("") == "is empty"
    assert "NUL" in (device_id_problem("a\x00b") or "")
    long = "x" * (MAX_DEVICE_ID_CHARS + 1)
    assert f"at most {MAX_DEVICE_ID_CHARS}" in (device_id_problem(long) or "")
    assert device_id_problem("x" * MAX_DEVICE_ID_CHARS) is None
    r = decode_message("zigbee2mqtt/" + long, b'{"occupancy":true}', NOW, ANY)
    assert r.rejection is not None and r.rejection.reason == "bad_device_id"
    assert "at most" in r.rejection.detail
    r = decode_message("zigbee2mqtt/", b'{"occupancy":true}', NOW, ANY)
    assert r.rejection is not None and "empty" in r.rejection.detail


def test_building_file_matches_ids_exactly_as_written(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "examples" / "office.yaml").read_text("utf-8"))
    desk = data["devices"][0]["space"]
    names = ["Meeting Room 2 Motion", " desk 7 ", "floor 1/desk 12", "Bureau Ø"]
    data["devices"] = [
        {"id": n, "kind": "desk_sensor", "space": desk, "family": "zigbee2mqtt"}
        for n in names
    ]
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    site = load_building(path)
    assert [d.id for d in site.devices] == names
    ctx = DecodeContext.from_devices(
        [DeviceInfo(d.id, d.kind, d.family, d.space_id) for d in site.devices]
    )
    ok = decode_message("zigbee2mqtt/ desk 7 ", b'{"occupancy":false}', NOW, ctx)
    assert [e.device_id for e in ok.events] == [" desk 7 "]
    near = decode_message("zigbee2mqtt/desk 7", b'{"occupancy":false}', NOW, ctx)
    assert near.rejection is not None and near.rejection.reason == "unknown_device"
    data["devices"][0]["id"] = ""
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(BuildingError, match="is empty"):
        load_building(path)
