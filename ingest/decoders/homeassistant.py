"""Home Assistant MQTT discovery: ``homeassistant/<component>/[<node>/]<object>/config``.

Discovery messages announce devices; they are never events. An occupancy-like
entity (``device_class`` motion, occupancy or presence) makes its device known
as *unassigned* so an operator can place it. The device id and family come from
the entity's ``state_topic`` (zigbee2mqtt, ESPHome, Tasmota), else the node id.
Empty config (entity deleted) and ``homeassistant/status`` (HA birth) are ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded
from ingest.payload import parse_json, valid_device_id
from occupancy.events import Rejection

logger = logging.getLogger(__name__)

FAMILY = "homeassistant"
_CONFIG = re.compile(r"^homeassistant/([^/]+)/(?:([^/]+)/)?([^/]+)/config$")
_CLASSES = ("motion", "occupancy", "presence")


def matches(topic: str) -> bool:
    return topic.startswith("homeassistant/")


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    m = _CONFIG.match(topic)
    if not m or not payload.strip():
        return Decoded()
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "discovery config is not a JSON object")
    if obj.get("device_class") not in _CLASSES:
        return Decoded()
    state_topic = obj.get("state_topic") or obj.get("stat_t")
    device, family = _source(str(state_topic or ""), m.group(2) or m.group(3))
    if not valid_device_id(device):
        return Decoded.refuse("bad_device_id", f"discovered device id {device[:80]!r}")
    return Decoded(discovered=(Discovered(device, family, str(state_topic or topic)),))


def _source(state_topic: str, node: str) -> tuple[str, str]:
    parts = state_topic.split("/")
    if len(parts) >= 2 and parts[0] == "zigbee2mqtt":
        return parts[1], "zigbee2mqtt"
    if (
        len(parts) == 4
        and parts[1] in ("binary_sensor", "sensor")
        and parts[3] == "state"
    ):
        if parts[0] != "homeassistant":
            return parts[0], "esphome"
    if len(parts) == 3 and parts[0] in ("tele", "stat"):
        return parts[1], "tasmota"
    return node, FAMILY
