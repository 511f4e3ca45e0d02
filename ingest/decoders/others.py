"""Smaller families seen in offices: Shelly (Gen1 ``shellies/<id>/...``, Gen2+
``<prefix>/events/rpc``, ``<prefix>/status/<component:id>``, ``<prefix>/online``;
Shelly BLU devices through the gateway scripts: ``params.blu`` and ``<MAC>``),
Pressac via Azure IoT Hub (``devices/<gw>/messages/events/``, plain or in a
``d2cMessage`` envelope),
and Sparkplug B (``spBv1.0/...``: binary protobuf, refused; host STATE, also
2.x ``STATE/<host_id>``, ignored).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded, Stamp, stamp
from ingest.payload import as_number, parse_json, parse_text
from occupancy.events import Event, Kind, Rejection

logger = logging.getLogger(__name__)

_SHELLY1 = re.compile(r"^shellies/([^/]+)/status$")
_SHELLY1_TEXT = re.compile(
    r"^shellies/([^/]+)/(sensor/motion|sensor/battery|online|input/\d|input_event/\d)$"
)
_SHELLY2 = re.compile(r"^(.+)/events/rpc$")
_SHELLY2_STATUS = re.compile(r"^(.+)/status/([a-z0-9_]+:\d+)$")
_SHELLY2_ONLINE = re.compile(r"^(.+)/online$")
#: Shelly's "universal BLU to MQTT" script publishes on the BLU device's MAC.
_BLU_MAC = re.compile(r"^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$")
#: BTHome objects of Shelly BLU devices (decoded by the gateway's script):
#: ``motion`` (0x21, BLU Motion: a state held while movement lasts) is
#: presence, ``button`` (0x3a) a press, ``battery`` (0x01) per cent.
_BTHOME_PRESENCE = ("motion", "occupancy")
#: Azure IoT Hub device-to-cloud topic; a property bag may follow the slash.
_PRESSAC = re.compile(r"^devices/([^/]+)/messages/events(?:/.*)?$")
#: Gen2+ input events that are a press (a person at the button): motion.
_PUSH_EVENTS = frozenset(
    {"single_push", "double_push", "triple_push", "long_push", "btn_down"}
)
#: Pressac / gateway-envelope presence keys (first present wins).
_PRESSAC_KEYS = ("motionDetected", "occupancy", "occupied", "presence", "deskOccupied")


def _shelly1_text(
    device: str,
    leaf: str,
    topic: str,
    payload: bytes,
    received_at: dt.datetime,
    ctx: DecodeContext,
) -> Decoded:
    """Gen1 plain topics: ``sensor/motion`` and ``input/N`` (presence),
    ``input_event/N`` (a press: motion), ``sensor/battery`` [%], ``online``."""
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=device)
    st = stamp(device, None, received_at, ctx, "shelly")
    if isinstance(st, Decoded):
        return st
    value = text.strip()
    if leaf.startswith("input_event/"):
        st.add(Kind.MOTION, 1.0)
        return st.done()
    if leaf == "sensor/battery":
        st.add_battery(value)
        return st.done("battery not a percentage")
    kind = Kind.AVAILABILITY if leaf == "online" else Kind.PRESENCE
    bad = st.add_bool(kind, value, leaf)
    if bad:
        return Decoded(rejection=bad, device_id=device)
    found = (Discovered(device, "shelly", topic),) if leaf == "online" else ()
    return Decoded(events=tuple(st.events), device_id=device, discovered=found)


def matches_shelly(topic: str) -> bool:
    return (
        topic.startswith("shellies/")
        or bool(_BLU_MAC.match(topic))
        or bool(_SHELLY2.match(topic))
        or bool(_SHELLY2_STATUS.match(topic))
        or bool(_SHELLY2_ONLINE.match(topic))
    )


def decode_shelly(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Gen1 Motion ``status`` (``motion``, ``timestamp`` epoch s, ``bat`` %),
    ``sensor/motion`` (``true``/``false``); Gen2 ``NotifyStatus`` with
    ``params.ts`` (epoch s, float) and ``input:N.state``."""
    if _BLU_MAC.match(topic):
        return _blu_mac(topic, payload, received_at, ctx)
    m0 = _SHELLY1_TEXT.match(topic)
    if m0:
        return _shelly1_text(m0.group(1), m0.group(2), topic, payload, received_at, ctx)
    if topic.startswith("shellies/") and not _SHELLY1.match(topic):
        return Decoded.nothing(
            "Shelly Gen1 topic without occupancy (announce, relay...)"
        )
    m1 = _SHELLY1.match(topic)
    if m1:
        device = m1.group(1)
        obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
        if isinstance(obj, Rejection):
            return Decoded(rejection=obj, device_id=device)
        if not isinstance(obj, dict):
            return Decoded.refuse("bad_json", "status is not a JSON object", device)
        st = stamp(device, obj.get("timestamp"), received_at, ctx, "shelly")
        if isinstance(st, Decoded):
            return st
        if "motion" in obj:
            bad = st.add_bool(Kind.PRESENCE, obj["motion"], "motion")
            if bad:
                return Decoded(rejection=bad, device_id=device)
        if "bat" in obj:
            st.add_battery(obj["bat"])
        return st.done()
    return _shelly2(topic, payload, received_at, ctx)


def _shelly2(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Gen2/3/4: ``<prefix>/online`` (``true``/``false``, the LWT),
    ``<prefix>/status/<component:id>`` (generic status updates), and
    ``<prefix>/events/rpc`` ``NotifyStatus`` (``input:N.state``: a PIR on an
    input, presence) and ``NotifyEvent`` (``single_push``...: a press, motion)."""
    m = _SHELLY2_ONLINE.match(topic)
    if m:
        device = m.group(1)
        text = parse_text(payload, ctx.max_payload_bytes)
        if isinstance(text, Rejection):
            return Decoded(rejection=text, device_id=device)
        st = stamp(device, None, received_at, ctx, "shelly")
        if isinstance(st, Decoded):
            return st
        bad = st.add_bool(Kind.AVAILABILITY, text.strip(), "online")
        if bad:
            return Decoded(rejection=bad, device_id=device)
        return Decoded(
            events=tuple(st.events),
            device_id=device,
            discovered=(Discovered(device, "shelly", topic),),
        )
    m = _SHELLY2_STATUS.match(topic)
    m2 = _SHELLY2.match(topic)
    device = (m or m2).group(1)  # type: ignore[union-attr]
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=device)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "payload is not a JSON object", device)
    rpc: dict[str, object] = (
        {"method": "NotifyStatus", "params": {m.group(2): obj}} if m else obj
    )
    params = rpc.get("params")
    if not isinstance(params, dict):
        return Decoded.nothing("RPC frame without params", device)
    if rpc.get("src") not in (None, device) and "/" not in device:
        return Decoded.refuse(
            "device_mismatch",
            f"src {str(rpc.get('src'))[:64]!r} != topic {device!r}",
            device,
        )
    st = stamp(device, params.get("ts"), received_at, ctx, "shelly")
    if isinstance(st, Decoded):
        return st
    for key in sorted(k for k in params if k.startswith("input:")):
        comp = params[key]
        if isinstance(comp, dict) and isinstance(comp.get("state"), bool):
            st.add(Kind.PRESENCE, float(comp["state"]))
    blu = params.get("blu")
    if isinstance(blu, dict):  # the BLU Gateway script: {"blu":{<device>:{...}}}
        return _blu_devices(blu, params.get("ts"), received_at, ctx)
    events = params.get("events")
    if rpc.get("method") == "NotifyEvent" and isinstance(events, list):
        if any(isinstance(e, dict) and e.get("event") in _PUSH_EVENTS for e in events):
            st.add(Kind.MOTION, 1.0)
    return st.done("no input state or button press in it")


def _bthome(st: Stamp, data: dict[str, object]) -> Rejection | None:
    """Presence, press and battery from decoded BTHome objects."""
    for key in _BTHOME_PRESENCE:
        if key in data:
            bad = st.add_bool(Kind.PRESENCE, data[key], key)
            if bad:
                return bad
            break
    press = as_number(data.get("button"))
    if press is not None and press > 0:
        st.add(Kind.MOTION, 1.0)
    if "battery" in data:
        st.add_battery(data["battery"])
    return None


def _blu_mac(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """``<MAC>`` with ``{"addr","rssi","service_data":{BTHome objects}}``: the
    BLU device (its MAC, as written in the topic) is the device."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=topic)
    data = obj.get("service_data") if isinstance(obj, dict) else None
    if not isinstance(data, dict):
        return Decoded.refuse("bad_json", "BLU message without service_data", topic)
    st = stamp(topic, None, received_at, ctx, "shelly")
    if isinstance(st, Decoded):
        return st
    bad = _bthome(st, data)
    if bad:
        return Decoded(rejection=bad, device_id=topic)
    return st.done("BLU sensor data without motion, button or battery")


def _blu_devices(
    blu: dict[str, object], ts: object, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """``params.blu`` of the BLU Gateway script: one entry per BLU device
    (``shellyblumotion-<mac>``...), each the device of its events."""
    events: list[Event] = []
    for device, data in blu.items():
        if not isinstance(data, dict):
            continue
        st = stamp(device, ts, received_at, ctx, "shelly")
        if isinstance(st, Decoded):
            return st
        bad = _bthome(st, data)
        if bad:
            return Decoded(rejection=bad, device_id=device)
        events.extend(st.events)
    note = "" if events else "BLU data without motion, button or battery"
    return Decoded(events=tuple(events), note=note)


def matches_pressac(topic: str) -> bool:
    return bool(_PRESSAC.match(topic))


def decode_pressac(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Pressac sensors behind a Smart Gateway on Azure IoT Hub, as published
    or forwarded by Node-RED: the message itself or wrapped in ``d2cMessage``
    (an object or a JSON string). The device is the sensor
    (``deviceId``/``deviceid``), ``motionDetected`` (bool or string) is
    presence, ``timestamp`` is local ``YYYY-MM-DD HH:MM:SS``."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj)
    obj = _unwrap_envelope(obj, ctx)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "payload is not a JSON object")
    device = obj.get("deviceId", obj.get("deviceid", obj.get("DeviceId")))
    if not isinstance(device, str):
        return Decoded.refuse("missing_field", "Pressac message without deviceId")
    st = stamp(device, obj.get("timestamp"), received_at, ctx, "pressac")
    if isinstance(st, Decoded):
        return st
    for key in _PRESSAC_KEYS:
        if key in obj:
            bad = st.add_bool(Kind.PRESENCE, obj[key], key)
            if bad:
                return Decoded(rejection=bad, device_id=device)
            break
    return st.done(f"a {obj.get('deviceType', 'sensor')} message without occupancy")


def _unwrap_envelope(obj: object, ctx: DecodeContext) -> object:
    """The message inside ``d2cMessage`` / ``body`` (Azure IoT Hub, Node-RED)."""
    for _ in range(2):
        if not isinstance(obj, dict):
            return obj
        inner = obj.get("d2cMessage", obj.get("body"))
        if inner is None:
            return obj
        if isinstance(inner, str):
            inner = parse_json(inner.encode(), ctx.max_payload_bytes, ctx.max_depth)
            if isinstance(inner, Rejection):
                return inner
        obj = inner
    return obj


#: Sparkplug B 2.x host application state: ``STATE/<host_id>``, ``ONLINE``/``OFFLINE``.
_SPARKPLUG2_STATE = re.compile(r"^STATE/[^/]+$")


def matches_sparkplug(topic: str) -> bool:
    return topic.startswith("spBv1.0/") or bool(_SPARKPLUG2_STATE.match(topic))


def decode_sparkplug(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Host ``STATE`` messages are not sensor data; every other Sparkplug B
    message is a protobuf payload this ingester does not decode."""
    parts = topic.split("/")
    if parts[0] == "STATE" or (len(parts) >= 2 and parts[1] == "STATE"):
        return Decoded.nothing("Sparkplug host application state (not a sensor)")
    device = parts[-1] if len(parts) >= 4 else None
    return Decoded.refuse(
        "unsupported_format", "Sparkplug B (protobuf) is not supported", device
    )
