"""Property tests: whatever arrives, a decoder returns events or a Rejection,
never an exception (random bytes, random topics, mutated real messages)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from family_samples import SAMPLES as FAMILY_SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.context import DecodeContext
from ingest.registry import FAMILIES, decode
from occupancy.events import Event, Rejection

from conftest import SHARED_PAYLOADS

CTX = DecodeContext(tz=ZoneInfo("Europe/Amsterdam"), pseudonym_key="k", site="hq")
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

SAMPLES: list[tuple[str, bytes]] = (
    [
        (m["topic"], m["payload"].encode())
        for m in json.loads(SHARED_PAYLOADS.read_text("utf-8"))
    ]
    if SHARED_PAYLOADS.exists()
    else []
) + [
    (
        "occupancy/hq/desk-1/presence",
        b'{"ts":"2026-03-02T08:15:03.120Z","seq":1,"occupied":true}',
    ),
    ("occupancy/hq/ble-1/ble", b'{"seq":9,"beacons":[{"id":"badge-0042","rssi":-67}]}'),
    ("occupancy/hq/zc-1/count", b'{"ts":1772439300000,"seq":88,"count":4}'),
    *((t, p) for t, p, _ in FAMILY_SAMPLES),
]
TOPICS = [t for t, _ in SAMPLES] + [
    "occupancy/hq/desk-1/heartbeat",
    "occupancy/hq/desk-1/status",
    "tele/x/LWT",
    "stat/x/PIR1",
    "home/gw/BTtoMQTT/AA",
    "v3/a@t/devices/d/up",
    "zigbee2mqtt/x/availability",
]


def _check(out: object) -> None:
    # The registry turns a decoder exception into ``internal_error``: that is
    # a bug here, not a rejection.
    assert not (isinstance(out, Rejection) and out.reason == "internal_error"), out
    assert isinstance(out, Rejection) or (
        isinstance(out, list) and all(isinstance(e, Event) for e in out)
    ), out


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from(TOPICS) | st.text(max_size=80),
    payload=st.binary(max_size=300),
)
def test_random_bytes_never_raise(topic: str, payload: bytes) -> None:
    _check(decode(topic, payload, NOW, CTX))


def _mutate_json(value: Any, data: st.DataObject) -> Any:
    """Replace one leaf (or the whole) with a hostile value."""
    hostile = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.just([]),
        st.just({}),
        st.just("nan"),
        st.just("ON"),
        st.just("2026-13-45T99:99:99Z"),
    )
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        return {**value, key: _mutate_json(value[key], data)}
    if isinstance(value, list) and value and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(value) - 1))
        return [*value[:i], _mutate_json(value[i], data), *value[i + 1 :]]
    return data.draw(hostile)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(SAMPLES) - 1), data=st.data())
def test_mutated_real_messages_never_raise(index: int, data: st.DataObject) -> None:
    topic, payload = SAMPLES[index]
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = None
    how = data.draw(st.sampled_from(["json", "truncate", "flip", "insert"]))
    if how == "json" and parsed is not None:
        mutated = json.dumps(_mutate_json(parsed, data)).encode()
    elif how == "truncate":
        mutated = payload[: data.draw(st.integers(0, len(payload)))]
    elif how == "flip" and payload:
        i = data.draw(st.integers(0, len(payload) - 1))
        mutated = (
            payload[:i] + bytes([data.draw(st.integers(0, 255))]) + payload[i + 1 :]
        )
    else:
        i = data.draw(st.integers(0, len(payload)))
        mutated = (
            payload[:i] + data.draw(st.binary(min_size=1, max_size=8)) + payload[i:]
        )
    _check(decode(topic, mutated, NOW, CTX))


def test_every_family_is_exercised_by_the_samples() -> None:
    claimed = {f.name for t, _ in SAMPLES for f in FAMILIES if f.matches(t, CTX)}
    # homeassistant-state claims only topics learnt from discovery (test_families)
    assert claimed == {f.name for f in FAMILIES} - {"homeassistant-state"}
