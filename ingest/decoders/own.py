"""Our own device format (docs/mqtt-format.md):
``<topic_root>/<site>/<device_id>/<kind>``, JSON payloads, ``status`` plain text."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from ingest.context import DecodeContext
from ingest.decoders.common import Decoded, Stamp, badge_event, stamp
from ingest.payload import as_bool, parse_json, parse_text
from occupancy.events import Event, Kind, Rejection

logger = logging.getLogger(__name__)

__all__ = ["FAMILY", "KINDS", "decode_own", "matches_own"]

FAMILY = "occupancy"
KINDS = ("presence", "heartbeat", "count", "ble", "battery", "status")
#: At most this many beacons in one ``ble`` message.
MAX_BEACONS = 1000


def matches_own(topic: str, ctx: DecodeContext) -> bool:
    return topic.startswith(ctx.topic_root + "/")


#: Parsed topics (``(topic, topic_root, site)`` -> (device_id, kind) or the
#: refusal): a device publishes on the same few topics all day.
_TOPICS: dict[tuple[str, str, str | None], tuple[str, str] | Decoded] = {}
_TOPIC_CACHE_MAX = 8192


def _parse_topic(topic: str, ctx: DecodeContext) -> tuple[str, str] | Decoded:
    rest = topic[len(ctx.topic_root) + 1 :].split("/")
    if len(rest) != 3 or not all(rest):
        return Decoded.refuse(
            "bad_topic",
            f"expected {ctx.topic_root}/<site>/<device_id>/<kind>, got {topic[:120]!r}",
        )
    site, device_id, kind = rest
    if ctx.site is not None and site != ctx.site:
        return Decoded.refuse(
            "unknown_site", f"site {site!r} is not {ctx.site!r}", device_id
        )
    if kind not in KINDS:
        return Decoded.refuse(
            "unknown_kind", f"kind {kind!r} not one of {', '.join(KINDS)}", device_id
        )
    return device_id, kind


def decode_own(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    key = (topic, ctx.topic_root, ctx.site)
    parsed = _TOPICS.get(key)
    if parsed is None:
        parsed = _parse_topic(topic, ctx)
        if len(_TOPICS) >= _TOPIC_CACHE_MAX:
            _TOPICS.clear()  # bounded: random topics cannot grow it
        _TOPICS[key] = parsed
    if isinstance(parsed, Decoded):
        return parsed
    device_id, kind = parsed
    if kind == "status":
        return _status(device_id, payload, received_at, ctx)
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=device_id)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "payload is not a JSON object", device_id)
    claimed = obj.get("device_id")
    if claimed is not None and claimed != device_id:
        return Decoded.refuse(
            "device_mismatch",
            f"payload device_id {str(claimed)[:64]!r} != topic {device_id!r}",
            device_id,
        )
    seq = obj.get("seq", -1)
    if isinstance(seq, bool) or not isinstance(seq, int) or not -1 <= seq < 2**63:
        return Decoded.refuse("bad_value", f"seq {str(seq)[:30]!r}", device_id)
    st = stamp(device_id, obj.get("ts"), received_at, ctx, FAMILY, seq)
    if isinstance(st, Decoded):
        return st
    bad = _fill(kind, obj, st, ctx)
    if bad is not None:
        return Decoded(rejection=bad, device_id=device_id)
    return st.done()


def _fill(
    kind: str, obj: dict[str, Any], st: Stamp, ctx: DecodeContext
) -> Rejection | None:
    if kind in ("presence", "heartbeat"):
        if "occupied" not in obj and kind == "presence":
            return Rejection("missing_field", "presence needs 'occupied'")
        b = as_bool(obj.get("occupied")) if "occupied" in obj else None
        if isinstance(b, Rejection) or not (
            b is None or isinstance(obj["occupied"], bool)
        ):
            return Rejection("bad_value", "occupied must be true, false or null")
        st.add(Kind(kind), None if b is None else float(b))
        if kind == "heartbeat" and "battery" in obj:
            return _battery(obj["battery"], st)
        return None
    if kind == "count":
        n = obj.get("count")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 100_000:
            return Rejection(
                "bad_value", f"count must be an integer >= 0, got {str(n)[:30]!r}"
            )
        st.add(Kind.COUNT, float(n))
        return None
    if kind == "battery":
        if "battery" not in obj:
            return Rejection("missing_field", "battery message needs 'battery'")
        return _battery(obj["battery"], st)
    return _ble(obj, st, ctx)


def _battery(raw: object, st: Stamp) -> Rejection | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 100:
        return Rejection("bad_value", f"battery must be 0-100 %, got {str(raw)[:30]!r}")
    st.add(Kind.BATTERY, float(raw))
    return None


def _ble(obj: dict[str, Any], st: Stamp, ctx: DecodeContext) -> Rejection | None:
    beacons = obj.get("beacons")
    if not isinstance(beacons, list):
        return Rejection("missing_field", "ble needs a 'beacons' list")
    if len(beacons) > MAX_BEACONS:
        return Rejection("bad_value", f"{len(beacons)} beacons > {MAX_BEACONS}")
    out: list[Event] = []
    for i, b in enumerate(beacons):
        if not isinstance(b, dict) or not isinstance(b.get("id"), str):
            return Rejection("bad_value", f"beacons[{i}] needs a string 'id'")
        ev = badge_event(st, b["id"], b.get("rssi"), ctx)
        if isinstance(ev, Rejection):
            return Rejection(ev.reason, f"beacons[{i}]: {ev.detail}")
        out.append(ev)
    st.events.extend(out)
    return None


def _status(
    device_id: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=device_id)
    b = as_bool(text.strip())
    if text.strip().lower() not in ("online", "offline") or isinstance(b, Rejection):
        return Decoded.refuse(
            "bad_value",
            f"status must be online or offline, got {text[:30]!r}",
            device_id,
        )
    st = stamp(device_id, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    st.add(Kind.AVAILABILITY, float(bool(b)))
    return st.done()
