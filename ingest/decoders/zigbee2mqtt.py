"""zigbee2mqtt: ``zigbee2mqtt/<friendly_name>`` JSON state, ``.../availability``
(2.x ``{"state":"online"}`` or 1.x plain ``online``), ``zigbee2mqtt/bridge/state``.

``occupancy`` (PIR, held for ``occupancy_timeout``) and ``presence`` (mmWave,
``null`` = unknown) are presence states; ``battery`` [%]; ``last_seen``
(ISO 8601 or epoch ms) is the event time when enabled. A message without any of
these (e.g. battery-only or a light) never says "vacant".
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded, presence_events, stamp
from ingest.payload import parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "zigbee2mqtt"
BASE = "zigbee2mqtt"
_IGNORED_SUFFIXES = ("/set", "/get")


def matches(topic: str) -> bool:
    return topic.startswith(BASE + "/")


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
    if state not in ("online", "offline"):
        return Decoded.refuse(
            "bad_value", f"availability {str(state)[:30]!r}", device_id
        )
    st = stamp(device_id, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    st.add(Kind.AVAILABILITY, 1.0 if state == "online" else 0.0)
    return Decoded(
        events=tuple(st.events),
        device_id=device_id,
        discovered=(Discovered(device_id, FAMILY, topic),),
    )


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    name = topic[len(BASE) + 1 :]
    if name == "bridge/state":
        return _availability(BASE + "-bridge", topic, payload, received_at, ctx)
    if name.startswith("bridge/") or name.endswith(_IGNORED_SUFFIXES):
        return Decoded()
    if name.endswith("/availability"):
        return _availability(
            name[: -len("/availability")], topic, payload, received_at, ctx
        )
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=name)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "state payload is not a JSON object", name)
    info = obj.get("device")
    if isinstance(info, dict) and info.get("friendlyName") not in (None, name):
        return Decoded.refuse(
            "device_mismatch",
            f"device.friendlyName {json.dumps(info.get('friendlyName'))[:64]} != topic {name!r}",
            name,
        )
    st = stamp(name, obj.get("last_seen"), received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    bad = presence_events(st, obj, ("occupancy", "presence"))
    if bad is not None:
        return Decoded(rejection=bad, device_id=name)
    if "battery" in obj:
        st.add_battery(obj["battery"])
    return st.done()
