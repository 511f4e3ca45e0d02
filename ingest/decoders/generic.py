"""Plain MQTT binary sensors: the last resort for a topic no family claims.

DIY sensors, Node-RED flows, openHAB and Homie-style publishers often send a
bare state on a topic that names what it is: ``office/mr3/motion`` ``ON``,
``building/2/desk-14/occupancy`` ``true``. A topic with a level naming motion,
occupancy, presence, PIR, radar or mmWave and a payload that is a plain
boolean word (``ON``/``OFF``, ``true``/``false``, ``1``/``0``,
``occupied``/``vacant``, ``detected``/``clear``) is a presence state; the
device id is the topic without its last level when that level is the
measurement (``.../motion``), else the whole topic. Devices that publish a self-describing JSON on a topic the installer chose
are read by their payload: zigbee2mqtt states under another ``base_topic``
(``linkquality`` in the state; the device is the topic after its first level);
Pressac Smart Gateway messages forwarded by Node-RED
(``deviceType`` and ``deviceId``, or a ``d2cMessage`` envelope: as on Azure IoT
Hub's topic); LoRaWAN uplinks in ChirpStack's JSON on a topic of the
installer's (Milesight gateways' embedded network server: ``devEUI``,
``deviceName``, ``fPort``, the codec's ``object``), read as ChirpStack's;
Milesight's AI sensors with direct MQTT (VS121-P,
VS125...: ``"event":"Region People Counting"``, ``current_total`` is the head
count of the area; ``occupancy`` per region when no total; the device is
``device_info.device_sn``, else ``device_mac``). Anything else stays refused as
``unknown_topic``; ESPHome log lines (its ``<prefix>/debug`` topic) carry
nothing. A device's ``topic:`` in the building file selects another
family explicitly.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from ingest.context import DecodeContext
from ingest.decoders import others, ttn, zigbee2mqtt
from ingest.decoders.common import Decoded, stamp
from ingest.payload import as_bool, as_number, parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "mqtt"
_WORD = re.compile(r"motion|occupan|occupied|presence|pir|radar|mmwave", re.I)
_BOOL_WORDS = frozenset(
    {"on", "off", "true", "false", "1", "0", "occupied", "vacant", "detected", "clear"}
)
_MAX_PAYLOAD = 16


#: ESPHome's MQTT log topic (``<prefix>/debug``): ``[D][sensor:093]: ...``,
#: possibly with ANSI colours.
_ESPHOME_LOG = re.compile(rb"^(?:\x1b\[[0-9;]*m)?\[[VDIWEC]\]\[[\w.]+(?::\d+)?\]")
#: Pressac Smart Gateway messages forwarded on another topic than Azure IoT
#: Hub's (Node-RED flows): a sensor type and id, or the ``d2cMessage`` envelope.
_PRESSAC_MARKS = frozenset({"deviceType", "devicetype", "d2cMessage"})
_PRESSAC_IDS = frozenset({"deviceId", "deviceid"})
#: ``event`` values of Milesight's direct-MQTT people counting reports.
_MILESIGHT_EVENTS = frozenset({"Region People Counting"})


def matches(topic: str) -> bool:
    """The last resort claims every topic; :func:`decode` refuses what it
    cannot read (``unknown_topic``)."""
    return True


def _named_state(topic: str) -> bool:
    return "/" in topic and any(_WORD.search(level) for level in topic.split("/"))


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    if payload[:1] == b"{":
        found = _self_describing(topic, payload, received_at, ctx)
        if found is not None:
            return found
    if _ESPHOME_LOG.match(payload[:80]):
        return Decoded.nothing("an ESPHome log line (<node>/debug)")
    if not _named_state(topic):
        return Decoded.refuse("unknown_topic", f"no decoder for topic {topic[:120]!r}")
    text = parse_text(payload[: _MAX_PAYLOAD + 1], ctx.max_payload_bytes)
    word = text.strip() if isinstance(text, str) else ""
    if isinstance(text, Rejection) or word.lower() not in _BOOL_WORDS:
        return Decoded.refuse(
            "unknown_topic",
            f"no decoder for topic {topic[:120]!r} (not a plain on/off state: "
            f"{payload[:30]!r})",
        )
    head, _, leaf = topic.rpartition("/")
    device = head if _WORD.search(leaf) and head else topic
    st = stamp(device, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    st.add(Kind.PRESENCE, float(as_bool(word) is True))
    return st.done()


def _inner(obj: dict[str, object]) -> dict[str, object]:
    """The message inside a Node-RED/Azure ``d2cMessage`` envelope, if any."""
    inner = obj.get("d2cMessage")
    return inner if isinstance(inner, dict) else obj


def _self_describing(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded | None:
    """A vendor JSON recognised by its own fields, else ``None``."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if not isinstance(obj, dict):
        return None
    if _PRESSAC_MARKS & obj.keys() and _PRESSAC_IDS & _inner(obj).keys():
        return others.decode_pressac(topic, payload, received_at, ctx)
    base, _, name = topic.partition("/")
    if "linkquality" in obj and name and base != "homeassistant":
        # zigbee2mqtt under another ``mqtt.base_topic``: its state carries
        # ``linkquality`` (every z2m device state does)
        return zigbee2mqtt.decode(
            f"{zigbee2mqtt.BASE}/{name}", payload, received_at, ctx
        )
    eui = obj.get("devEUI")
    if isinstance(eui, str) and eui and "fPort" in obj:  # a LoRaWAN uplink
        app = str(obj.get("applicationID", "0")) or "0"
        up = f"application/{app}/device/{eui}/event/up"
        return ttn.decode_chirpstack(up, payload, received_at, ctx)
    event = obj.get("event")
    if not isinstance(event, str) or event not in _MILESIGHT_EVENTS:
        return None
    info = obj.get("device_info")
    info = info if isinstance(info, dict) else {}
    device = info.get("device_sn") or info.get("device_mac")
    if not isinstance(device, str):
        return Decoded.refuse("missing_field", "Milesight report without device_sn")
    st = stamp(device, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    total = as_number(obj.get("current_total"))
    regions = obj.get("occupancy")
    if total is not None and total >= 0:
        st.add(Kind.COUNT, float(round(total)))
    elif isinstance(regions, list) and regions:
        known = [b for b in map(as_bool, regions) if isinstance(b, bool)]
        if known:
            st.add(Kind.PRESENCE, float(any(known)))
    return st.done("people counting report without a total or regions")
