"""OpenMQTTGateway: ``home/<gateway>/BTtoMQTT/<MAC>`` BLE advertisements,
``home/presence/<gateway>`` (``presenceUseBeaconUuid``),
``home/home_presence/<gateway>`` (``hasspresence``: the ``mqtt_room`` format), ``home/<gateway>/LWT``,
``home/<gateway>/HCSR501toMQTT`` (PIR, ``"true"``/``"false"`` strings).

The device is the gateway (the scanner covers a zone). A badge is identified by
its iBeacon ``uuid/major/minor`` when present (phones randomise MACs), else by
``id`` (MAC). ``UTCtime``/``unixtime`` are used when the gateway adds them.
Advertisements without ``id`` and ``rssi`` are ignored; decoded fixed sensors
(a Theengs ``type`` other than beacon/tracker/random MAC, or thermometer
readings) are not badges: only their battery is kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded, Stamp, badge_event, stamp
from ingest.decoders.espresense import sighting
from ingest.payload import parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "openmqttgateway"
_BT = re.compile(r"^home/([^/]+)/BTtoMQTT(?:/([^/]+))?$")
_PRESENCE = re.compile(r"^home/presence/([^/]+)$")
#: ``hasspresence`` (Home Assistant ``mqtt_room``) under the gateway's base
#: topic: ``home/home_presence/<gateway or room>``.
_HASS_PRESENCE = re.compile(r"^home/home_presence/([^/]+)$")
_LWT = re.compile(r"^home/([^/]+)/LWT$")
_PIR = re.compile(r"^home/([^/]+)/HCSR501toMQTT$")


#: Keys of BLE motion/presence *sensors* decoded by the gateway (Xiaomi
#: RTCGQ02LM ``motion``, Qingping CGPR1 ``pres``...): a fixed device, not a
#: person, so its id (MAC) is the device id, not a badge.
_BLE_SENSOR_KEYS = ("motion", "pres", "presence", "occupancy")
#: Theengs decoder device types that are carried by people (badges): beacons,
#: trackers, random-MAC phones. Any other decoded ``type`` (``THB``
#: thermometers, ``PLANT``, ``ENRG``, ``SCALE``...) is a fixed sensor: its
#: readings are not a person; only its battery is kept.
_BADGE_TYPES = frozenset({"BCON", "TRACK", "RMAC", "UNIQ"})
#: Readings of undecoded-type sensors (older gateways without ``type``).
_READING_KEYS = ("tempc", "tempf", "hum", "moi", "fer", "pm25", "co2", "volt")


def _ble_sensor(
    sensor_id: str,
    obj: dict[str, object],
    key: str,
    received_at: dt.datetime,
    ctx: DecodeContext,
) -> Decoded:
    st = stamp(sensor_id, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    bad = st.add_bool(Kind.PRESENCE, obj[key], key)
    if bad:
        return Decoded(rejection=bad, device_id=sensor_id)
    if "batt" in obj:
        st.add_battery(obj["batt"])
    return st.done()


def _is_sensor(obj: dict[str, object]) -> bool:
    kind = obj.get("type")
    if isinstance(kind, str) and kind:
        return kind.upper() not in _BADGE_TYPES
    return any(k in obj for k in _READING_KEYS)


def _sensor_reading(
    obj: dict[str, object], received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """A decoded fixed sensor (thermometer...): its battery, nothing else."""
    sensor_id = obj.get("id")
    if not isinstance(sensor_id, str) or "batt" not in obj:
        return Decoded.nothing("BLE sensor reading (not a person, no battery)")
    st = stamp(sensor_id, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    st.add_battery(obj["batt"])
    return st.done("BLE sensor reading without a battery percentage")


def matches(topic: str) -> bool:
    return topic.startswith("home/")


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    m = _LWT.match(topic)
    if m:
        return _lwt(m.group(1), topic, payload, received_at, ctx)
    m = _HASS_PRESENCE.match(topic)
    if m:
        return sighting(m.group(1), None, payload, received_at, ctx, FAMILY)
    m = _BT.match(topic) or _PRESENCE.match(topic) or _PIR.match(topic)
    if not m:
        return Decoded.nothing("gateway system, command or other module message")
    gw = m.group(1)
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=gw)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "payload is not a JSON object", gw)
    ts_value = obj.get("UTCtime", obj.get("unixtime"))
    st = stamp(gw, ts_value, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    if topic.endswith("/HCSR501toMQTT"):
        bad = st.add_bool(Kind.PRESENCE, obj.get("presence"), "presence")
        return Decoded(rejection=bad, device_id=gw) if bad else st.done()
    sensor = next((k for k in _BLE_SENSOR_KEYS if k in obj), None)
    if sensor is not None and isinstance(obj.get("id"), str):
        return _ble_sensor(obj["id"], obj, sensor, received_at, ctx)
    if _is_sensor(obj):
        return _sensor_reading(obj, received_at, ctx)
    return _badge(gw, st, obj, ctx)


def _lwt(
    gw: str, topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=gw)
    if text.strip().lower() not in ("online", "offline"):
        return Decoded.refuse("bad_value", f"LWT {text[:30]!r}", gw)
    st = stamp(gw, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    st.add(Kind.AVAILABILITY, 1.0 if text.strip().lower() == "online" else 0.0)
    return Decoded(
        events=tuple(st.events),
        device_id=gw,
        discovered=(Discovered(gw, FAMILY, topic),),
    )


def _badge(gw: str, st: Stamp, obj: dict[str, object], ctx: DecodeContext) -> Decoded:
    """A person's beacon, tracker or phone seen by gateway ``gw``."""
    uuid = obj.get("uuid")
    if isinstance(uuid, str) and uuid:
        raw = f"{uuid}/{obj.get('major', 0)}/{obj.get('minor', 0)}"
    else:
        raw = obj.get("id")  # type: ignore[assignment]
    if not isinstance(raw, str) or "rssi" not in obj:
        return Decoded(device_id=gw)
    ev = badge_event(st, raw, obj.get("rssi"), ctx)
    if isinstance(ev, Rejection):
        return Decoded(rejection=ev, device_id=gw)
    st.events.append(ev)
    return st.done()
