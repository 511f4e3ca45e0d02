"""zigbee2mqtt (1.x and 2.x): ``zigbee2mqtt/<friendly_name>`` JSON state.

The friendly name is everything between ``zigbee2mqtt/`` and the end of the
topic (or a known sub-topic): spaces, Unicode and ``/`` (nested topics such as
``zigbee2mqtt/floor 1/desk 12``) are part of it. Sub-topics are never devices:
``/availability`` (2.x ``{"state":"online"}`` or 1.x plain ``online``),
``/set``, ``/get`` (and ``/set/<attr>``, ``/get/<attr>``: commands),
``zigbee2mqtt/bridge/...`` (``bridge/state`` is the bridge's availability,
``bridge/devices`` announces the occupancy devices the bridge knows). With
``advanced.output: attribute`` zigbee2mqtt publishes
``zigbee2mqtt/<friendly_name>/<attribute>`` with a plain value; that is read
for the attributes below.

State keys, from the converters' exposes (zigbee-herdsman-converters):
``occupancy``/``presence``/``occupancy_status``/``pir_detection`` (booleans,
``null`` unknown), per-endpoint ``occupancy_<ep>``/``presence_<ep>`` (zones of
one sensor: the device is occupied when any is), ``presence_state``/
``motion_state``/``human_motion_state`` (enums, ``none`` = vacant),
``presence_event`` (``enter``/``leave``...), ``action`` ``region_<n>_enter``/
``_occupied`` (multi-region radars: someone there; ``_leave`` says nothing),
mmWave ``target_distance`` [m] (> 0 = a target, only when no presence key),
``people`` (head count), ``battery`` [%], ``last_seen`` (ISO 8601 or epoch ms) as the event time. A message with none of
these (a light, battery only) never says "vacant".
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded, Stamp, stamp
from ingest.payload import as_bool, as_number, parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "zigbee2mqtt"
BASE = "zigbee2mqtt"
#: Boolean presence keys, first present wins.
PRESENCE_KEYS = ("occupancy", "presence", "occupancy_status", "pir_detection")
#: Per-endpoint booleans: ``occupancy_1``, ``presence_l2``, ``occupancy_in``...
_ENDPOINT = re.compile(r"^(occupancy|presence)_([a-z]{0,2}\d{1,2}|in|out|or)$")
#: Enum presence keys: ``none`` (any case) is vacant, every other value occupied.
ENUM_KEYS = ("presence_state", "motion_state", "human_motion_state")
#: ``presence_event`` values (Aqara FP1): 1 = someone there, 0 = left.
EVENTS = {
    "enter": 1.0,
    "left_enter": 1.0,
    "right_enter": 1.0,
    "approach": 1.0,
    "leave": 0.0,
    "left_leave": 0.0,
    "right_leave": 0.0,
}
#: ``action`` region events of multi-region radars (Aqara FP1
#: ``region_<n>_<event>``): an enter or a sure occupancy is someone there; a
#: leave or unoccupied region says nothing of the other regions.
REGION_ACTIONS = {"enter": 1.0, "occupied": 1.0}
_REGION_ACTION = re.compile(r"^region_\d{1,2}_([a-z]+)$")
COUNT_KEYS = ("people", "people_count")
#: Attributes read from attribute output (``zigbee2mqtt/<name>/<attribute>``).
ATTRIBUTES = frozenset(
    (*PRESENCE_KEYS, *ENUM_KEYS, *COUNT_KEYS, "presence_event", "battery", "action")
)
_COMMAND = re.compile(r"/(set|get)(/[^/]+)?$")
#: Kinds a bridge/devices entry reports, from its exposed properties.
_EXPOSE_KINDS = {
    **{k: "presence" for k in (*PRESENCE_KEYS, *ENUM_KEYS, "presence_event")},
    **{k: "count" for k in COUNT_KEYS},
    "battery": "battery",
}


#: ``mqtt.base_topic``: the default, ``z2m``, or a variant such as
#: ``zigbee2mqtt_floor2`` (one bridge per floor).
_BASE = re.compile(r"^(zigbee2mqtt[A-Za-z0-9_-]*|z2m)/")


def matches(topic: str) -> bool:
    return bool(_BASE.match(topic))


def _availability(
    device_id: str,
    topic: str,
    payload: bytes,
    received_at: dt.datetime,
    ctx: DecodeContext,
) -> Decoded:
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=device_id)
    state: object = text.strip()
    if isinstance(state, str) and state.startswith("{"):
        obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
        if isinstance(obj, Rejection):
            return Decoded(rejection=obj, device_id=device_id)
        state = obj.get("state") if isinstance(obj, dict) else None
    if not isinstance(state, str) or state.lower() not in ("online", "offline"):
        return Decoded.refuse(
            "bad_value",
            f"availability must be online or offline, got {str(state)[:30]!r}",
            device_id,
        )
    st = stamp(device_id, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    st.add(Kind.AVAILABILITY, 1.0 if state.lower() == "online" else 0.0)
    return Decoded(
        events=tuple(st.events),
        device_id=device_id,
        discovered=(Discovered(device_id, FAMILY, topic),),
    )


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    base, _, name = topic.partition("/")
    if name == "bridge/state":
        return _availability(base + "-bridge", topic, payload, received_at, ctx)
    if name == "bridge/devices":
        return _bridge_devices(base, payload, ctx)
    if name == "bridge" or name.startswith("bridge/"):
        return Decoded.nothing(f"zigbee2mqtt bridge message ({name})")
    if _COMMAND.search(name):
        return Decoded.nothing("a command to the device (/set or /get), not a report")
    if name.endswith("/availability"):
        return _availability(
            name[: -len("/availability")], topic, payload, received_at, ctx
        )
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    head, _, leaf = name.rpartition("/")
    if head and leaf in ATTRIBUTES and not isinstance(obj, dict):
        value = obj
        if isinstance(obj, Rejection):  # enum values come unquoted
            text = parse_text(payload, ctx.max_payload_bytes)
            if isinstance(text, Rejection):
                return Decoded(rejection=text, device_id=head)
            value = text.strip()
        return _state(head, {leaf: value}, received_at, ctx)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=name)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "state payload is not a JSON object", name)
    info = obj.get("device")
    if isinstance(info, dict) and info.get("friendlyName") not in (None, name):
        return Decoded.refuse(
            "device_mismatch",
            f"device.friendlyName {json.dumps(info.get('friendlyName'))[:64]} "
            f"!= topic {name!r}",
            name,
        )
    return _state(name, obj, received_at, ctx)


def _state(
    name: str, obj: dict[str, Any], received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    st = stamp(name, obj.get("last_seen"), received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    bad = _presence(st, obj)
    if bad is not None:
        return Decoded(rejection=bad, device_id=st.device_id)
    for key in COUNT_KEYS:
        n = as_number(obj.get(key))
        if n is not None and n >= 0:
            st.add(Kind.COUNT, float(round(n)))
            break
    if "battery" in obj:
        st.add_battery(obj["battery"])
    return st.done("no occupancy, presence, people or battery key in this state")


def _presence(st: Stamp, obj: dict[str, Any]) -> Rejection | None:
    for key in PRESENCE_KEYS:
        if key in obj:
            return st.add_bool(Kind.PRESENCE, obj[key], key)
    zones = [as_bool(v) for k, v in obj.items() if _ENDPOINT.match(k)]
    known = [z for z in zones if isinstance(z, bool)]
    if known:
        st.add(Kind.PRESENCE, float(any(known)))
        return None
    for key in ENUM_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value:
            st.add(Kind.PRESENCE, 0.0 if value.lower() == "none" else 1.0)
            return None
    event = obj.get("presence_event")
    if isinstance(event, str) and event in EVENTS:
        st.add(Kind.PRESENCE, EVENTS[event])
        return None
    distance = as_number(obj.get("target_distance"))
    if distance is not None and distance > 0:
        st.add(Kind.PRESENCE, 1.0)
        return None
    action = _REGION_ACTION.match(str(obj.get("action") or ""))
    if action and action.group(1) in REGION_ACTIONS:
        st.add(Kind.PRESENCE, REGION_ACTIONS[action.group(1)])
    return None


def _bridge_devices(base: str, payload: bytes, ctx: DecodeContext) -> Decoded:
    """``bridge/devices`` (retained list): every device exposing occupancy-like
    properties is announced, with the kinds it reports."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj)
    if not isinstance(obj, list):
        return Decoded.refuse("bad_json", "bridge/devices is not a JSON list")
    found: list[Discovered] = []
    for dev in obj:
        if not isinstance(dev, dict) or dev.get("type") == "Coordinator":
            continue
        name = dev.get("friendly_name")
        definition = dev.get("definition")
        if not isinstance(name, str) or not isinstance(definition, dict):
            continue
        props = _properties(definition.get("exposes"))
        kinds = sorted({_EXPOSE_KINDS[p] for p in props if p in _EXPOSE_KINDS})
        if "presence" in kinds or "count" in kinds:
            found.append(Discovered(name, FAMILY, f"{base}/{name}", tuple(kinds)))
    return Decoded(
        discovered=tuple(found),
        note=f"bridge device list: {len(found)} occupancy device(s) announced",
    )


def _properties(exposes: object) -> set[str]:
    out: set[str] = set()
    if not isinstance(exposes, list):
        return out
    for e in exposes:
        if not isinstance(e, dict):
            continue
        prop = e.get("property")
        if isinstance(prop, str):
            out.add(_ENDPOINT.sub(r"\1", prop))
        out |= _properties(e.get("features"))
    return out
