"""Smaller families seen in offices: Shelly (Gen1 ``shellies/<id>/...``, Gen2
``<id>/events/rpc``), Pressac via Azure IoT Hub (``devices/<gw>/messages/events/``),
and Sparkplug B (``spBv1.0/...``: binary protobuf, refused; host STATE ignored).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from ingest.context import DecodeContext
from ingest.decoders.common import Decoded, stamp
from ingest.payload import parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

_SHELLY1 = re.compile(r"^shellies/([^/]+)/(status|sensor/motion)$")
_SHELLY2 = re.compile(r"^([^/]+)/events/rpc$")
_PRESSAC = re.compile(r"^devices/([^/]+)/messages/events/?$")


def matches_shelly(topic: str) -> bool:
    return topic.startswith("shellies/") or bool(_SHELLY2.match(topic))


def decode_shelly(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Gen1 Motion ``status`` (``motion``, ``timestamp`` epoch s, ``bat`` %),
    ``sensor/motion`` (``true``/``false``); Gen2 ``NotifyStatus`` with
    ``params.ts`` (epoch s, float) and ``input:N.state``."""
    m1 = _SHELLY1.match(topic)
    if m1:
        device = m1.group(1)
        if m1.group(2) == "sensor/motion":
            text = parse_text(payload, ctx.max_payload_bytes)
            if isinstance(text, Rejection):
                return Decoded(rejection=text, device_id=device)
            st = stamp(device, None, received_at, ctx, "shelly")
            if isinstance(st, Decoded):
                return st
            bad = st.add_bool(Kind.PRESENCE, text.strip(), "motion")
            return Decoded(rejection=bad, device_id=device) if bad else st.done()
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
    m2 = _SHELLY2.match(topic)
    if not m2:
        return Decoded()
    device = m2.group(1)
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=device)
    if not isinstance(obj, dict) or not isinstance(obj.get("params"), dict):
        return Decoded(device_id=device)
    if obj.get("src") not in (None, device):
        return Decoded.refuse(
            "device_mismatch",
            f"src {str(obj.get('src'))[:64]!r} != topic {device!r}",
            device,
        )
    params = obj["params"]
    st = stamp(device, params.get("ts"), received_at, ctx, "shelly")
    if isinstance(st, Decoded):
        return st
    for key in sorted(k for k in params if k.startswith("input:")):
        comp = params[key]
        if isinstance(comp, dict) and "state" in comp:
            bad = st.add_bool(Kind.PRESENCE, comp["state"], f"{key}.state")
            if bad:
                return Decoded(rejection=bad, device_id=device)
    return st.done()


def matches_pressac(topic: str) -> bool:
    return bool(_PRESSAC.match(topic))


def decode_pressac(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Pressac sensors behind a Smart Gateway: the device is the sensor
    (``deviceId``/``deviceid``), ``motionDetected`` (bool or string) is presence,
    ``timestamp`` is local ``YYYY-MM-DD HH:MM:SS``."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "payload is not a JSON object")
    device = obj.get("deviceId", obj.get("deviceid"))
    if not isinstance(device, str):
        return Decoded.refuse("missing_field", "Pressac message without deviceId")
    st = stamp(device, obj.get("timestamp"), received_at, ctx, "pressac")
    if isinstance(st, Decoded):
        return st
    if "motionDetected" in obj:
        bad = st.add_bool(Kind.PRESENCE, obj["motionDetected"], "motionDetected")
        if bad:
            return Decoded(rejection=bad, device_id=device)
    return st.done()


def matches_sparkplug(topic: str) -> bool:
    return topic.startswith("spBv1.0/")


def decode_sparkplug(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Host ``STATE`` messages are not sensor data; every other Sparkplug B
    message is a protobuf payload this ingester does not decode."""
    parts = topic.split("/")
    if len(parts) >= 2 and parts[1] == "STATE":
        return Decoded()
    device = parts[-1] if len(parts) >= 4 else None
    return Decoded.refuse(
        "unsupported_format", "Sparkplug B (protobuf) is not supported", device
    )
