"""Each family's documented conventions decode to their meaning
(family_samples.py), and Home Assistant state topics decode once their
discovery config was seen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from family_samples import HA_CONFIG, HA_CONFIG_JSON, SAMPLES

from ingest.context import DecodeContext
from ingest.decoders import homeassistant
from ingest.registry import decode_message
from occupancy.events import Kind

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CTX = DecodeContext(pseudonym_key="k", max_clock_skew_s=0)


@pytest.mark.parametrize(
    ("topic", "payload", "expected"), SAMPLES, ids=[s[0][:60] for s in SAMPLES]
)
def test_convention_decodes_to_its_meaning(
    topic: str, payload: bytes, expected: Any
) -> None:
    r = decode_message(topic, payload, NOW, CTX)
    if isinstance(expected, tuple):
        assert r.rejection is not None and r.rejection.reason == expected[1], r
        assert r.rejection.detail
        return
    assert r.rejection is None, r.rejection
    assert {(e.kind, e.value) for e in r.events} == expected
    if not expected:
        assert r.note, "a message with nothing to store says why"
    for e in r.events:
        if e.kind is Kind.BADGE:  # the raw BLE id never leaves the decoder
            assert e.badge and e.badge not in payload.decode()


def test_home_assistant_state_topics_after_discovery() -> None:
    homeassistant.ENTITIES.clear()
    before = decode_message("office/mr3/pir", b"1", NOW, CTX)  # generic fallback
    assert [(e.device_id, e.family) for e in before.events] == [("office/mr3", "mqtt")]
    cfg = decode_message(
        "homeassistant/binary_sensor/mr3/occupancy/config", HA_CONFIG, NOW, CTX
    )
    assert [(d.device_id, d.family, d.topic) for d in cfg.discovered] == [
        ("mr3", "homeassistant", "office/mr3/pir")
    ]
    on = decode_message("office/mr3/pir", b"1", NOW, CTX)
    off = decode_message("office/mr3/pir", b"0", NOW, CTX)
    assert [(e.device_id, e.kind, e.value) for e in on.events + off.events] == [
        ("mr3", Kind.PRESENCE, 1.0),
        ("mr3", Kind.PRESENCE, 0.0),
    ]
    odd = decode_message("office/mr3/pir", b"maybe", NOW, CTX)
    assert odd.rejection is not None and "payload_on '1'" in odd.rejection.detail
    decode_message(
        "homeassistant/binary_sensor/desk4/occupancy/config", HA_CONFIG_JSON, NOW, CTX
    )
    state = decode_message("office/desk 4/state", b'{"occupied": true}', NOW, CTX)
    assert [(e.device_id, e.value) for e in state.events] == [("desk4", 1.0)]
    lwt = decode_message("office/desk 4/lwt", b"offline", NOW, CTX)
    assert [(e.kind, e.value) for e in lwt.events] == [(Kind.AVAILABILITY, 0.0)]
    homeassistant.ENTITIES.clear()


def test_z2m_bridge_devices_announces_occupancy_devices() -> None:
    payload = SAMPLES[13][1]
    r = decode_message("zigbee2mqtt/bridge/devices", payload, NOW, CTX)
    assert [(d.device_id, d.kinds) for d in r.discovered] == [
        ("Desk 1", ("battery", "presence"))
    ]
