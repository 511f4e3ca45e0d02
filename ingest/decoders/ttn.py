"""The Things Stack v3 uplinks: ``v3/<app>@<tenant>/devices/<device_id>/up``.

Only ``uplink_message.decoded_payload`` (the application's payload formatter)
is read; an uplink without it is refused (``no_decoded_payload``), a console
``simulated`` uplink is refused (``simulated``). ``f_cnt`` is the sequence
number (absent = 0, protobuf JSON omits zeros); the event time is the
Application Server's ``received_at`` (ns precision, truncated to µs).

Decoded-payload conventions of common devices:

- ``occupancy``: Elsys (ERS, EMS Desk) 0 = vacant, 1 = pending (unknown),
  2 = occupied; Milesight VS340/VS341 ``"occupied"``/``"vacant"``; booleans.
- ``occupied``, ``presence``, ``occupancy_status``, ``room_occupancy``,
  ``desk_occupancy``: presence (bool, 0/1, strings).
- Browan/TABS TBMS100 ``status`` 1 = occupied (``count`` is a cumulative
  motion counter, ``time`` a duration: neither is stored).
- Milesight WS202 ``pir: "trigger"``, Elsys ``motion`` (PIR counts since the last
  uplink), MClimate ``pressEvent``: motion.
- ``people_count_all``, ``people_count``, ``people``, ``occupants``,
  IMBUILDINGS ``people_count``/``count``: head count. Line counters
  (``line_N.total_in/total_out``) are cumulative crossings, not a head count:
  not stored.
- ``battery`` [%] (``battery_level``, ``batteryLevel``), except Browan and any
  value with volts (``batteryVoltage``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from ingest.context import DecodeContext
from ingest.decoders.common import Decoded, Stamp, presence_events, stamp
from ingest.payload import as_bool, as_number, parse_json
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "ttn"
_TOPIC = re.compile(r"^v3/([^/]+)/devices/([^/]+)/up$")
_PRESENCE_KEYS = (
    "occupied",
    "presence",
    "occupancy_status",
    "room_occupancy",
    "desk_occupancy",
)
_COUNT_KEYS = (
    "people_count_all",
    "people_count",
    "people",
    "occupants",
    "person_count",
)
_BATTERY_KEYS = ("battery_level", "batteryLevel", "battery")
_VOLT_BATTERY_BRANDS = ("browan", "tabs")


def matches(topic: str) -> bool:
    return topic.startswith("v3/")


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    m = _TOPIC.match(topic)
    if not m:
        return Decoded()  # other TTS topics (join, down/*, service/data): not uplinks
    device = m.group(2)
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=device)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "uplink is not a JSON object", device)
    ids = obj.get("end_device_ids")
    claimed = ids.get("device_id") if isinstance(ids, dict) else None
    if claimed is not None and claimed != device:
        return Decoded.refuse(
            "device_mismatch",
            f"end_device_ids.device_id {str(claimed)[:64]!r} != topic {device!r}",
            device,
        )
    if obj.get("simulated") is True:
        return Decoded.refuse("simulated", "uplink simulated from the console", device)
    up = obj.get("uplink_message")
    if not isinstance(up, dict):
        return Decoded.refuse("missing_field", "no uplink_message", device)
    decoded = up.get("decoded_payload")
    if not isinstance(decoded, dict):
        return Decoded.refuse(
            "no_decoded_payload", "configure a payload formatter", device
        )
    f_cnt = up.get("f_cnt", 0)
    if isinstance(f_cnt, bool) or not isinstance(f_cnt, int) or not 0 <= f_cnt < 2**32:
        return Decoded.refuse("bad_value", f"f_cnt {str(f_cnt)[:30]!r}", device)
    ts_value = obj.get("received_at") or up.get("received_at")
    st = stamp(device, ts_value, received_at, ctx, FAMILY, f_cnt)
    if isinstance(st, Decoded):
        return st
    versions = up.get("version_ids")
    brand = (
        str(versions.get("brand_id", "")).lower() if isinstance(versions, dict) else ""
    )
    bad = _decoded(st, decoded, brand)
    if bad:
        return Decoded(rejection=bad, device_id=device)
    return st.done()


def _decoded(st: Stamp, d: dict[str, Any], brand: str) -> Rejection | None:
    if "occupancy" in d:
        occ = d["occupancy"]
        if brand == "elsys" and isinstance(occ, int) and not isinstance(occ, bool):
            if occ not in (0, 1, 2):
                return Rejection("bad_value", f"occupancy {occ} (Elsys: 0, 1, 2)")
            st.add(Kind.PRESENCE, {0: 0.0, 1: None, 2: 1.0}[occ])
        else:
            n = as_number(occ)
            if n is not None and n > 1 and float(n).is_integer():
                st.add(Kind.PRESENCE, 1.0)  # vendor levels above "1": occupied
            else:
                bad = st.add_bool(Kind.PRESENCE, occ, "occupancy")
                if bad:
                    return bad
    else:
        bad = presence_events(st, d, _PRESENCE_KEYS)
        if bad:
            return bad
    if brand in _VOLT_BATTERY_BRANDS and "status" in d:
        bad = st.add_bool(Kind.PRESENCE, d["status"], "status")
        if bad:
            return bad
    _motion(st, d)
    for key in _COUNT_KEYS:
        if key in d:
            n = as_number(d[key])
            if n is None or n < 0 or not n.is_integer():
                return Rejection(
                    "bad_value", f"{key} {str(d[key])[:30]!r} is not a head count"
                )
            st.add(Kind.COUNT, n)
            break
    if brand not in _VOLT_BATTERY_BRANDS:
        for key in _BATTERY_KEYS:
            if key in d:
                st.add_battery(d[key])
                break
    return None


def _motion(st: Stamp, d: dict[str, Any]) -> None:
    pir = d.get("pir")
    if isinstance(pir, str) and pir.lower() in ("trigger", "triggered", "motion"):
        st.add(Kind.MOTION, 1.0)
    motion = as_number(d.get("motion"))
    if motion is not None and motion > 0:
        st.add(Kind.MOTION, 1.0)
    press = d.get("pressEvent")
    if as_bool(press) is True:
        st.add(Kind.MOTION, 1.0)
