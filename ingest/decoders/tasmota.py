"""Tasmota: ``tele/<topic>/SENSOR`` (JSON with ``Time``), ``tele/<topic>/LWT``
(``Online``/``Offline``), ``stat/<topic>/RESULT`` and rule topics
``stat/<topic>/<Name>`` (``ON``/``OFF``); Zigbee2Tasmota's per-device
``tele/<topic>/<device>/SENSOR`` (``SetOption89 1``); ``tasmota/discovery/...``
(configuration: nothing); with ``SetOption4 1`` switch and button actions
arrive on ``stat/<topic>/SWITCH`` / ``BUTTON`` instead of ``RESULT``.

``Time`` is local time without zone by default (``TimeFormat`` 1; read in the
site's zone), with the UTC offset when ``SetOption52 1``; an ``Epoch`` field
(``Time`` format 2/3, UTC seconds) wins. ``SwitchN`` (PIR on a switch input),
``LD2410.Out_pin`` (else its ``Energy``/``Distance``: any above 0 = a target)
and ``LD2410S.People > 0`` (detected, not a head count) are
presence; ``IBEACON`` sightings are badges (``STATE: OFF`` = lost, nothing stored).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded, Stamp, badge_event, stamp
from ingest.payload import as_bool, as_number, parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "tasmota"
_TOPIC = re.compile(r"^(tele|stat|cmnd)/([^/]+)/([^/]+)$")
#: FullTopic ``%topic%/%prefix%/`` (the other documented order).
_TOPIC_SWAPPED = re.compile(r"^([^/]+)/(tele|stat|cmnd)/([^/]+)$")
#: Zigbee2Tasmota with ``SetOption89 1``: a sub-topic per Zigbee device
#: (``tele/<topic>/<short address or, with SetOption112, name>/SENSOR``).
_ZB_TOPIC = re.compile(r"^(tele|stat)/([^/]+)/([^/]+)/(SENSOR|RESULT)$")
#: ``STATUS10`` (``STATUS8`` before 9.x): the answer to ``Status 10``, the
#: SENSOR readings wrapped in ``StatusSNS``.
_JSON_LEAVES = frozenset({"SENSOR", "RESULT", "STATUS10", "STATUS8"})
#: ``SetOption4 1`` publishes a command's result on a topic named after it:
#: ``stat/<topic>/SWITCH`` ``{"Switch3":{"Action":"OFF"}}``, ``.../BUTTON``.
_ACTION_LEAF = re.compile(r"^(SWITCH|BUTTON)\d*$")
#: Tasmota's own discovery (``SetOption19 0``): configuration, no readings.
_DISCOVERY = "tasmota/discovery/"
_SWITCH = re.compile(r"^Switch\d{1,2}$")
_BUTTON = re.compile(r"^Button\d{1,2}$")
#: Detached switch actions (SetOption114 1): ON/OFF is the input's state,
#: the others (SwitchMode toggles, holds) a change: a trigger.
_SWITCH_STATES = {"ON": 1.0, "OFF": 0.0}
_RULE_NAME = re.compile(r"pir|motion|presence|occupan|switch\d", re.IGNORECASE)


def matches(topic: str) -> bool:
    return bool(
        _TOPIC.match(topic)
        or _TOPIC_SWAPPED.match(topic)
        or _ZB_TOPIC.match(topic)
        or topic.startswith(_DISCOVERY)
        or _deep(topic) is not None
    )


#: Leaves Tasmota publishes, to recognise a FullTopic with more levels
#: (``tasmota/%topic%/%prefix%/``: ``tasmota/pow_09/stat/STATUS10``).
_LEAF = re.compile(
    r"^(SENSOR|RESULT|STATE|LWT|STATUS\d*|POWER\d*|SWITCH\d*|BUTTON\d*)$"
)


def _deep(topic: str) -> tuple[str, str, str] | None:
    """``(device, prefix, leaf)`` of a FullTopic with extra levels: the prefix
    level right before the leaf, the device the level before it."""
    levels = topic.split("/")
    if len(levels) < 4 or not _LEAF.match(levels[-1]):
        return None
    if levels[-2] in ("tele", "stat", "cmnd") and levels[-3]:
        return levels[-3], levels[-2], levels[-1]
    return None


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    if topic.startswith(_DISCOVERY):
        return Decoded.nothing("Tasmota discovery (device configuration)")
    zb = _ZB_TOPIC.match(topic)
    if zb is not None:  # the Zigbee device's own sub-topic: ZbReceived names it
        return _json(zb.group(2), zb.group(4), payload, received_at, ctx)
    m = _TOPIC.match(topic)
    swapped = _TOPIC_SWAPPED.match(topic)
    deep = _deep(topic)
    if m is not None:
        prefix, device, leaf = m.groups()
    elif swapped is not None:
        device, prefix, leaf = swapped.groups()
    else:
        assert deep is not None  # matches() chose this decoder
        device, prefix, leaf = deep
    if prefix == "cmnd":
        return Decoded.nothing("a command to the device (cmnd/), not a report")
    if leaf == "LWT":
        text = parse_text(payload, ctx.max_payload_bytes)
        if isinstance(text, Rejection):
            return Decoded(rejection=text, device_id=device)
        if text.strip() not in ("Online", "Offline", "online", "offline"):
            return Decoded.refuse("bad_value", f"LWT {text[:30]!r}", device)
        st = stamp(device, None, received_at, ctx, FAMILY)
        if isinstance(st, Decoded):
            return st
        st.add(Kind.AVAILABILITY, 1.0 if text.strip().lower() == "online" else 0.0)
        return Decoded(
            events=tuple(st.events),
            device_id=device,
            discovered=(Discovered(device, FAMILY, topic),),
        )
    if leaf in _JSON_LEAVES or (_ACTION_LEAF.match(leaf) and payload[:1] == b"{"):
        return _json(device, leaf, payload, received_at, ctx)
    if prefix == "stat" and _RULE_NAME.search(leaf):
        text = parse_text(payload, ctx.max_payload_bytes)
        if isinstance(text, Rejection):
            return Decoded(rejection=text, device_id=device)
        st = stamp(device, None, received_at, ctx, FAMILY)
        if isinstance(st, Decoded):
            return st
        bad = st.add_bool(Kind.PRESENCE, text.strip(), leaf)
        return Decoded(rejection=bad, device_id=device) if bad else st.done()
    return Decoded(device_id=device)  # STATE, INFO, POWER...: not occupancy


def _json(
    device: str, leaf: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=device)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", f"{leaf} is not a JSON object", device)
    if isinstance(obj.get("StatusSNS"), dict):
        obj = obj["StatusSNS"]
    ts_value: object = obj.get("Time")
    if "Epoch" in obj:
        ts_value = obj["Epoch"]
    st = stamp(device, ts_value, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    bad = _switches(st, obj)
    if bad:
        return Decoded(rejection=bad, device_id=device)
    bad = _radar_and_beacons(st, obj, ctx)
    if bad:
        return Decoded(rejection=bad, device_id=device)
    zigbee = obj.get("ZbReceived")
    if isinstance(zigbee, dict):
        return _zigbee(zigbee, st.ts, received_at, ctx)
    return st.done("no switch, button, radar or beacon data in it")


def _switches(st: Stamp, obj: dict[str, Any]) -> Rejection | None:
    """``SwitchN`` ``"ON"``/``"OFF"`` (a PIR on a switch input), or detached
    ``{"SwitchN":{"Action":"ON"}}`` (SetOption114); detached buttons
    ``{"ButtonN":{"Action":"SINGLE"}}`` (SetOption73) are a press: motion.
    Several switches of one device give one presence: occupied when any is."""
    keys = [k for k in obj if _SWITCH.match(k) or _BUTTON.match(k)]
    if not keys:  # SwitchText renames the key: {"PIR1":"ON"}, {"Motion":...}
        keys = [k for k in obj if _RULE_NAME.search(k) and _switch_like(obj[k])]
    states: list[bool] = []
    unknown = pressed = False
    for key in keys:
        value = obj[key]
        if isinstance(value, dict):
            action = str(value.get("Action", "")).upper()
            if not _BUTTON.match(key) and action in _SWITCH_STATES:
                states.append(bool(_SWITCH_STATES[action]))
            elif action:
                pressed = True
            continue
        if _BUTTON.match(key):
            continue  # button state without action: not a press
        b = as_bool(value)
        if isinstance(b, Rejection):
            return Rejection("bad_value", f"{key}: {b.detail}")
        unknown |= b is None
        states += [] if b is None else [b]
    if states or unknown:
        st.add(Kind.PRESENCE, float(any(states)) if states else None)
    if pressed:
        st.add(Kind.MOTION, 1.0)
    return None


def _switch_like(value: object) -> bool:
    if isinstance(value, dict):
        return "Action" in value
    return isinstance(value, str) and value.upper() in ("ON", "OFF")


def _zigbee(
    zigbee: dict[str, Any],
    ts: dt.datetime,
    received_at: dt.datetime,
    ctx: DecodeContext,
) -> Decoded:
    """Tasmota Zigbee2Tasmota ``{"ZbReceived":{"0x1234":{"Name":...,
    "Occupancy":1}}}``: one device per entry, its ``Name`` (else the short
    address) as device id."""
    events = []
    for addr, dev in zigbee.items():
        if not isinstance(dev, dict):
            continue
        name = dev.get("Name") if isinstance(dev.get("Name"), str) else addr
        st = stamp(str(name), None, received_at, ctx, FAMILY)
        if isinstance(st, Decoded):
            return st
        for key in ("Occupancy", "Presence"):
            if key in dev:
                bad = st.add_bool(Kind.PRESENCE, dev[key], key)
                if bad:
                    return Decoded(rejection=bad, device_id=str(name))
                break
        if "BatteryPercentage" in dev:
            st.add_battery(dev["BatteryPercentage"])
        events.extend(st.events)
    return Decoded(
        events=tuple(events),
        note="" if events else "Zigbee report without occupancy or battery",
    )


def _ld2410(st: Stamp, ld: dict[str, Any]) -> Rejection | None:
    """``Out_pin`` (engineering result), else the periodic report's
    ``Energy`` [moving, static] (or ``Distance`` [moving, static, detect] cm):
    all zero is the module's "no target", any above zero a target."""
    if "Out_pin" in ld:
        return st.add_bool(Kind.PRESENCE, ld["Out_pin"], "LD2410.Out_pin")
    for key in ("Energy", "Distance"):
        values = ld.get(key)
        if isinstance(values, list) and values:
            numbers = [as_number(v) for v in values]
            if any(n is None for n in numbers):
                return Rejection("bad_value", f"LD2410.{key} is not a list of numbers")
            st.add(Kind.PRESENCE, float(any(n and n > 0 for n in numbers)))
            return None
    return None


def _radar_and_beacons(
    st: Stamp, obj: dict[str, Any], ctx: DecodeContext
) -> Rejection | None:
    has_switch = any(e.kind is Kind.PRESENCE for e in st.events)
    ld = obj.get("LD2410")
    if isinstance(ld, dict) and not has_switch:
        bad = _ld2410(st, ld)
        if bad:
            return bad
    lds = obj.get("LD2410S")
    if isinstance(lds, dict) and "People" in lds and not has_switch:
        people = as_number(lds["People"])
        if people is None:
            return Rejection("bad_value", "LD2410S.People is not a number")
        st.add(Kind.PRESENCE, 1.0 if people > 0 else 0.0)
    beacon = obj.get("IBEACON")
    if isinstance(beacon, dict):
        state = as_bool(beacon.get("STATE", "ON"))
        if state is False:
            return None  # beacon lost after timeout: not a sighting
        uid = beacon.get("UID") or beacon.get("UUID")
        raw = (
            f"{uid}/{beacon.get('MAJOR', 0)}/{beacon.get('MINOR', 0)}"
            if isinstance(uid, str) and uid
            else beacon.get("MAC")
        )
        if not isinstance(raw, str):
            return Rejection("bad_value", "IBEACON needs MAC or UID")
        ev = badge_event(st, raw, beacon.get("RSSI"), ctx)
        if isinstance(ev, Rejection):
            return ev
        st.events.append(ev)
    return None
