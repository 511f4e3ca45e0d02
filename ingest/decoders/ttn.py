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
  motion counter, ``time`` a duration: neither is stored); Netvox R718Q/QA
  ``status``, R311WA ``Status_N`` (brand table ``STATUS_PRESENCE``).
- Dingtek DC500/DC510 ``peopleCounter`` counts people passing a beam: a line
  counter for that brand (``LINE_KEYS_BY_BRAND``); DC520 ``balanceCounter``
  and Paxcounter ``pax`` are head counts.
- Milesight WS202 ``pir: "trigger"``, Elsys ``motion`` (PIR counts since the last
  uplink), MClimate ``pressEvent``: motion.
- ``people_count_all``, ``people_counter_all`` (VS121, regions summed by the
  device), ``people_count``, ``people``, ``occupants``: head count. Line
  counters (``line_N.total_in/total_out``, ``counter_a/b``) are crossings, not
  a head count: not stored (a note says so).
- ``battery`` [%] (``battery_level``, ``batteryLevel``), except Browan and any
  value with volts (``batteryVoltage``).
- Not measurements, refused with the reason: formatter ``errors``
  (``decoder_error``), responses to configuration commands such as Netvox
  ``Cmd`` (``configuration_uplink``), firmware/hardware reports
  (``device_info_uplink``).

Keys are matched normalized (``Occupy``, ``room_occupancy``, ``roomOccupancy``
are the same key): the tables are in :mod:`ingest.decoders.ttn_fields`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from ingest.context import DecodeContext
from ingest.decoders import ttn_fields as F
from ingest.decoders.common import Decoded, Stamp, stamp
from ingest.payload import as_bool, as_number, parse_json
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "ttn"
_TOPIC = re.compile(r"^v3/([^/]+)/devices/([^/]+)/up$")


#: The Things Network v2 (legacy): ``<app_id>/devices/<dev_id>/up``.
_V2 = re.compile(r"^([^/]+)/devices/([^/]+)/up$")


def matches(topic: str) -> bool:
    return topic.startswith("v3/") or bool(_V2.match(topic))


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    v2 = _V2.match(topic)
    if v2 and not topic.startswith("v3/"):
        return _decode_v2(v2.group(2), payload, received_at, ctx)
    m = _TOPIC.match(topic)
    if not m:
        return Decoded.nothing("not an uplink (join, downlink, service or location)")
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
    if isinstance(bad, Rejection):
        return Decoded(rejection=bad, device_id=device)
    return st.done(bad or "no occupancy, presence, motion or people count in it")


def _decode_v2(
    device: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """TTN v2: ``payload_fields`` (the formatter's output), ``counter``,
    ``metadata.time``."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=device)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "uplink is not a JSON object", device)
    fields = obj.get("payload_fields")
    if not isinstance(fields, dict):
        return Decoded.refuse(
            "no_decoded_payload", "configure a payload format (payload_fields)", device
        )
    counter = obj.get("counter", -1)
    seq = counter if isinstance(counter, int) and not isinstance(counter, bool) else -1
    meta = obj.get("metadata")
    ts_value = meta.get("time") if isinstance(meta, dict) else None
    st = stamp(device, ts_value, received_at, ctx, FAMILY, seq)
    if isinstance(st, Decoded):
        return st
    bad = _decoded(st, fields, "")
    if isinstance(bad, Rejection):
        return Decoded(rejection=bad, device_id=device)
    return st.done(bad or "no occupancy, presence, motion or people count in it")


_CHIRPSTACK = re.compile(
    r"^application/([^/]+)/device/([^/]+)/(?:event/)?(up|rx|status)$"
)


def matches_chirpstack(topic: str) -> bool:
    return topic.startswith("application/")


def decode_chirpstack(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """ChirpStack v3/v4 (and gateways with its MQTT format, e.g. Milesight's
    embedded network server): ``application/<app>/device/<dev_eui>/event/up``
    (v3 ``.../rx``) with the codec's output in ``object``, the same field tables
    as The Things Stack; ``event/status`` ``batteryLevel`` [%]. The device is
    ``deviceInfo.deviceName`` (v4) / ``deviceName`` (v3), else the DevEUI."""
    m = _CHIRPSTACK.match(topic)
    if not m:
        return Decoded.nothing("not an uplink (join, ack, txack, log)")
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=m.group(2))
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "event is not a JSON object", m.group(2))
    info = obj.get("deviceInfo") if isinstance(obj.get("deviceInfo"), dict) else obj
    name = info.get("deviceName") if isinstance(info, dict) else None
    device = name if isinstance(name, str) and name else m.group(2)
    f_cnt = obj.get("fCnt", -1)
    seq = f_cnt if isinstance(f_cnt, int) and not isinstance(f_cnt, bool) else -1
    st = stamp(device, obj.get("time"), received_at, ctx, "chirpstack", seq)
    if isinstance(st, Decoded):
        return st
    if m.group(3) == "status":
        st.add_battery(obj.get("batteryLevel"))
        return st.done("status event without battery level")
    decoded = obj.get("object")
    if not isinstance(decoded, dict):
        return Decoded.refuse("no_decoded_payload", "configure a codec", device)
    profile = str(info.get("deviceProfileName", "")).lower() if info else ""
    brands = ("elsys", *F.STATUS_PRESENCE, *F.LINE_KEYS_BY_BRAND)
    brand = next((b for b in brands if b in profile), "")
    bad = _decoded(st, decoded, brand)
    if isinstance(bad, Rejection):
        return Decoded(rejection=bad, device_id=device)
    return st.done(bad or "no occupancy, presence, motion or people count in it")


def _decoded(st: Stamp, d: dict[str, Any], brand: str) -> Rejection | str | None:
    """Events from a decoded payload; a Rejection when it is not a measurement
    (decoder errors, configuration responses, device information)."""
    if isinstance(d.get("errors"), list) and d["errors"]:
        errors = "; ".join(str(e) for e in d["errors"])[:200]
        return Rejection("decoder_error", f"the payload formatter failed: {errors}")
    inner = d.get("bytes")
    if len(d) == 1 and isinstance(inner, dict):
        d = inner  # Adeunis formatters put their output under "bytes"
    fields = {F.norm(k): _unwrap(v) for k, v in d.items() if isinstance(k, str)}
    brand = _brand(st, fields, brand)
    bad = _presence(st, fields, brand) or _count(st, fields, brand)
    if bad:
        return bad
    measured = bool(st.events)
    if brand not in F.VOLT_BATTERY_BRANDS:
        for key in F.BATTERY:
            n = as_number(fields.get(key))
            if n is not None and not (n < F.MAX_VOLTS and not n.is_integer()):
                st.add_battery(n)  # 3.6 is volts, not 3.6 %
                break
    if measured:
        return None
    return _not_a_measurement(fields, brand)


def _brand(st: Stamp, fields: dict[str, Any], brand: str) -> str:
    """The brand from ``version_ids``, else from the device id or the keys
    only that brand's formatter writes."""
    if brand:
        return brand
    if "elsys" in st.device_id.lower():
        return "elsys"
    if F.BROWAN_SIGNATURE <= fields.keys():
        return "browan"  # TBMS100 without version_ids: status/count/time
    if F.ELSYS_SIGNATURE & fields.keys() and "occupancy" in fields:
        return "elsys"  # Elsys formatter keys beside an integer occupancy
    if F.NETVOX_SIGNATURE <= fields.keys():
        return "netvox"
    if F.DINGTEK_SIGNATURE <= fields.keys():
        return "dingtek"
    return ""


def _count(st: Stamp, fields: dict[str, Any], brand: str) -> Rejection | None:
    """Motion, then the head count (a brand's line-counter keys skipped)."""
    _motion(st, fields)
    lines = F.LINE_KEYS_BY_BRAND.get(brand, frozenset())
    for key in F.COUNT:
        if key in fields and key not in lines:
            n = as_number(fields[key])
            if n is None or n < 0 or not n.is_integer():
                return Rejection(
                    "bad_value", f"{key} {str(fields[key])[:30]!r} is not a head count"
                )
            st.add(Kind.COUNT, n)
            return None
    return None


def _not_a_measurement(fields: dict[str, Any], brand: str) -> Rejection | str | None:
    """Why a decoded payload without measurement is refused, or a note."""
    lines = F.LINE_KEYS_BY_BRAND.get(brand, frozenset())
    if any(F.LINE_COUNTERS.search(k) or k in lines for k in fields):
        return (
            "line-crossing counters (people passing in/out): not a head count of "
            "the space, nothing stored (docs/devices.md)"
        )
    if any(k in fields for k in F.CONFIG):
        cmd = fields.get("cmd", fields.get("command", ""))
        return Rejection(
            "configuration_uplink",
            f"a response to a configuration command {str(cmd)[:40]!r}, no measurement",
        )
    if any(k in fields for k in F.DEVICE_INFO):
        return Rejection(
            "device_info_uplink",
            "a device information uplink (firmware/hardware version), no measurement",
        )
    return None


def _unwrap(value: object) -> object:
    """Sensative-style ``{"value": x}`` and Decentlab-style ``{"displayName",
    "unit", "value"}`` objects hold their value."""
    if isinstance(value, dict) and "value" in value and value.keys() <= _WRAPPER:
        return value["value"]
    return value


_WRAPPER = frozenset({"value", "unit", "displayName", "name"})


def _presence(st: Stamp, fields: dict[str, Any], brand: str) -> Rejection | None:
    status = F.STATUS_PRESENCE.get(brand)
    if status is not None and "cmd" not in fields:
        states = [as_bool(v) for k, v in fields.items() if status.match(k)]
        known = [b for b in states if isinstance(b, bool)]
        if known:
            st.add(Kind.PRESENCE, float(any(known)))  # any seat / channel
            return None
    key = next(
        (
            k
            for k in F.PRESENCE
            if k in fields and not isinstance(fields[k], dict | list)
        ),
        None,
    )
    if key is None:
        return _regions(st, fields)
    occ = fields[key]
    if brand == "elsys" and isinstance(occ, int) and not isinstance(occ, bool):
        if occ not in (0, 1, 2):
            return Rejection("bad_value", f"occupancy {occ} (Elsys: 0, 1, 2)")
        st.add(Kind.PRESENCE, {0: 0.0, 1: None, 2: 1.0}[occ])
        return None
    n = as_number(occ)
    if n is not None and n > 1 and float(n).is_integer():
        st.add(Kind.PRESENCE, 1.0)  # vendor levels above "1": occupied
        return None
    return st.add_bool(Kind.PRESENCE, occ, key)


def _regions(st: Stamp, fields: dict[str, Any]) -> Rejection | None:
    """Presence from per-region states (any enabled region occupied), else
    from an overall fallback state."""
    states = []
    for key, value in fields.items():
        m = F.REGION.match(key)
        if m and isinstance(value, str):
            enabled = fields.get(f"region{m.group(1)}enable", "enable")
            b = as_bool(value)
            if enabled != "disable" and isinstance(b, bool):
                states.append(b)
    if states:
        st.add(Kind.PRESENCE, float(any(states)))
        return None
    for key in F.PRESENCE_FALLBACK:
        b = as_bool(fields.get(key))
        if isinstance(b, bool):
            st.add(Kind.PRESENCE, float(b))
            return None
    return None


def _motion(st: Stamp, fields: dict[str, Any]) -> None:
    for key in F.MOTION:
        value = fields.get(key)
        if isinstance(value, str) and value.lower() in F.MOTION_STRINGS:
            st.add(Kind.MOTION, 1.0)
            return
        if value is True or (type(value) is int and value == 1):
            st.add(Kind.MOTION, 1.0)  # MClimate pir true, Micropelt PIR_Status 1
            return
    for key in F.MOTION_COUNTS:
        n = as_number(fields.get(key))
        if n is not None and n > 0:
            st.add(Kind.MOTION, 1.0)
            return
    if as_bool(fields.get("pressevent")) is True:
        st.add(Kind.MOTION, 1.0)
