"""Plain MQTT binary sensors: the last resort for a topic no family claims.

DIY sensors, Node-RED flows, openHAB and Homie-style publishers often send a
bare state on a topic that names what it is: ``office/mr3/motion`` ``ON``,
``building/2/desk-14/occupancy`` ``true``. A topic with a level naming motion,
occupancy, presence, PIR, radar or mmWave and a payload that is a plain
boolean word (``ON``/``OFF``, ``true``/``false``, ``1``/``0``,
``occupied``/``vacant``, ``detected``/``clear``) is a presence state; the
device id is the topic without its last level when that level is the
measurement (``.../motion``), else the whole topic. Anything else stays
refused as ``unknown_topic``. A device's ``topic:`` in the building file
selects another family explicitly.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from ingest.context import DecodeContext
from ingest.decoders.common import Decoded, stamp
from ingest.payload import as_bool, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "mqtt"
_WORD = re.compile(r"motion|occupan|occupied|presence|pir|radar|mmwave", re.I)
_BOOL_WORDS = frozenset(
    {"on", "off", "true", "false", "1", "0", "occupied", "vacant", "detected", "clear"}
)
_MAX_PAYLOAD = 16


def matches(topic: str) -> bool:
    return "/" in topic and any(_WORD.search(level) for level in topic.split("/"))


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
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
