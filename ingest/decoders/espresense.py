"""ESPresense room-presence nodes and the ``mqtt_room`` convention.

ESPresense (an ESP32 per room, BLE): ``espresense/devices/<id>/<room>`` JSON
``{"id","name","distance","rssi",...}`` (a tracked BLE device seen by the node
of ``<room>``), the older ``espresense/rooms/<room>`` with the same payload,
``espresense/rooms/<room>/status`` (``online``/``offline``, the LWT),
``espresense/rooms/<room>/motion`` / ``pir`` / ``radar`` (``ON``/``OFF``, a
motion or mmWave sensor wired to the node: presence), ``.../telemetry``
(node health), other ``espresense/rooms/<room>/<setting>`` and ``.../set``
(configuration, nothing to store), ``espresense/companion/...`` and
``espresense/settings/...`` (ESPresense-companion, nothing to store).

ESP32-mqtt-room (the predecessor) publishes ``room_presence/<room>`` sightings
and ``presence_nodes/<node>`` ``CONNECTED``/``DISCONNECTED`` (availability).

Home Assistant's ``mqtt_room`` clients (OpenMQTTGateway ``home_presence/<room>``,
``room_presence/<room>``) publish the same ``{"id","name","distance"}``.

The device is the node (its room name, verbatim); the tracked BLE id (``irk:…``,
``iBeacon:…``, a MAC) is a person's badge or phone: it is pseudonymised at once
and never stored raw.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded, badge_event, stamp
from ingest.payload import parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "espresense"
_DEVICES = re.compile(r"^espresense/devices/([^/]+)/([^/]+)$")
_ROOM = re.compile(r"^espresense/rooms/([^/]+)(?:/(.+))?$")
_MQTT_ROOM = re.compile(r"^(home_presence|room_presence)/([^/]+)$")
#: ESP32-mqtt-room (ESPresense's predecessor): the node's LWT/birth.
_NODE = re.compile(r"^presence_nodes/([^/]+)$")
_NODE_STATES = {"CONNECTED": 1.0, "DISCONNECTED": 0.0}
_SENSORS = ("motion", "pir", "radar")


def matches(topic: str) -> bool:
    return (
        topic.startswith("espresense/")
        or bool(_MQTT_ROOM.match(topic))
        or topic.startswith("presence_nodes/")
    )


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    m = _DEVICES.match(topic)
    if m:
        return sighting(m.group(2), m.group(1), payload, received_at, ctx, FAMILY)
    m = _MQTT_ROOM.match(topic)
    if m:
        family = "openmqttgateway" if m.group(1) == "home_presence" else FAMILY
        return sighting(m.group(2), None, payload, received_at, ctx, family)
    m = _NODE.match(topic)
    if m:
        return _node_state(m.group(1), topic, payload, received_at, ctx)
    if topic.startswith("presence_nodes/"):
        return Decoded.nothing("ESP32-mqtt-room node telemetry")
    m = _ROOM.match(topic)
    if not m:
        return Decoded.nothing("ESPresense companion or settings message")
    room, leaf = m.group(1), m.group(2)
    if leaf is None:
        return sighting(room, None, payload, received_at, ctx, FAMILY)
    if leaf == "status":
        return _state(room, topic, payload, received_at, ctx, Kind.AVAILABILITY)
    if leaf in _SENSORS:
        return _state(room, topic, payload, received_at, ctx, Kind.PRESENCE)
    if leaf == "telemetry":
        return Decoded.nothing("node telemetry (uptime, memory, counts)", room)
    return Decoded.nothing(f"node setting {leaf!r} (configuration)", room)


def sighting(
    node: str,
    topic_id: str | None,
    payload: bytes,
    received_at: dt.datetime,
    ctx: DecodeContext,
    family: str,
) -> Decoded:
    """One BLE sighting in the ``mqtt_room`` format by scanner ``node``."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=node)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "sighting is not a JSON object", node)
    raw = obj.get("id", topic_id)
    if not isinstance(raw, str) or not raw:
        return Decoded.refuse("missing_field", "sighting without 'id'", node)
    st = stamp(node, obj.get("timestamp"), received_at, ctx, family)
    if isinstance(st, Decoded):
        return st
    ev = badge_event(st, raw, obj.get("rssi"), ctx)
    if isinstance(ev, Rejection):
        return Decoded(rejection=ev, device_id=node)
    st.events.append(ev)
    return st.done()


def _node_state(
    node: str, topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """``presence_nodes/<node>``: ``CONNECTED`` / ``DISCONNECTED``."""
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=node)
    value = _NODE_STATES.get(text.strip().upper())
    if value is None:
        return Decoded.refuse("bad_value", f"node state {text[:30]!r}", node)
    st = stamp(node, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    st.add(Kind.AVAILABILITY, value)
    found = (Discovered(node, FAMILY, topic),)
    return Decoded(events=tuple(st.events), device_id=node, discovered=found)


def _state(
    room: str,
    topic: str,
    payload: bytes,
    received_at: dt.datetime,
    ctx: DecodeContext,
    kind: Kind,
) -> Decoded:
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=room)
    st = stamp(room, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    bad = st.add_bool(kind, text.strip(), topic.rsplit("/", 1)[-1])
    if bad:
        return Decoded(rejection=bad, device_id=room)
    found = (Discovered(room, FAMILY, topic),) if kind is Kind.AVAILABILITY else ()
    return Decoded(events=tuple(st.events), device_id=room, discovered=found)
