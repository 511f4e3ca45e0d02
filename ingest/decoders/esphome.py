"""ESPHome MQTT: ``<node>/binary_sensor/<object_id>/state`` (``ON``/``OFF``),
``<node>/sensor/<object_id>/state`` (number or ``nan``), ``<node>/status``
(``online``/``offline``, the LWT), ``esphome/discover/<node>`` (discovery).

ESPHome state messages carry no timestamp: the arrival time is used. Which
entity means what follows its object id (the snake_case entity name):
presence/occupancy/motion/pir/target → presence, ``*status*`` → availability,
battery → battery [%], people/count → count. ``nan`` is "no value", never 0.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re

from ingest.context import DecodeContext, Discovered
from ingest.decoders.common import Decoded, stamp
from ingest.payload import as_bool, parse_json, parse_text
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "esphome"
#: ``<node>`` is the ESPHome ``topic_prefix``: the node name, or any prefix
#: with ``/`` (``office/esp 12``).
_STATE = re.compile(r"^(.+)/(binary_sensor|sensor)/([^/]+)/state$")
_OTHER = re.compile(
    r"^(.+)/(text_sensor|switch|light|button|number|select|fan|cover|climate|"
    r"binary_sensor|sensor)/([^/]+)/(state|command|debug)$"
)
_STATUS = re.compile(r"^(.+)/status$")
#: Object ids (the snake_case entity names installers give, also in German,
#: Dutch, French, Spanish, Italian) that name presence or motion.
_PRESENCE = re.compile(
    r"presence|occupan|motion|pir|target|occupied|radar|mmwave|person|human|"
    r"movement|moving|bewegung|anwesen|praesenz|prasenz|beweging|aanwezig|"
    r"bezet|mouvement|presen[cz]|ocupa|movimiento|movimento|rilevamento|"
    r"microwave|(?:^|_)(?:mw|rcwl)(?:_|$)"
)
_COUNT = re.compile(r"people|count|persons|occupants|personen|anzahl|aantal")


def matches(topic: str) -> bool:
    return bool(
        _STATE.match(topic)
        or _OTHER.match(topic)
        or _STATUS.match(topic)
        or topic.startswith("esphome/discover/")
    )


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text)
    if topic.startswith("esphome/discover/"):
        return _discovery(topic, payload, ctx)
    value = text.strip()
    m = _STATUS.match(topic)
    if m:
        return _one(
            m.group(1),
            Kind.AVAILABILITY,
            value,
            received_at,
            ctx,
            ("online", "offline"),
        )
    m = _STATE.match(topic)
    if m is None:
        return Decoded.nothing("an ESPHome entity that is not occupancy (or a command)")
    node, component, obj_id = m.groups()
    if component == "binary_sensor":
        return _binary_state(node, obj_id, value, received_at, ctx)
    return _sensor_state(node, obj_id, value, received_at, ctx)


def _discovery(topic: str, payload: bytes, ctx: DecodeContext) -> Decoded:
    """``esphome/discover/<node>``: the node named in the JSON, else the topic's."""
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj)
    name = obj.get("name") if isinstance(obj, dict) else None
    node = name if isinstance(name, str) else topic.rsplit("/", 1)[-1]
    return Decoded(discovered=(Discovered(node, FAMILY, topic),))


def _binary_state(
    node: str, obj_id: str, value: str, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """A ``binary_sensor`` state: availability or presence, else not occupancy."""
    if _PRESENCE.search(obj_id):  # before status: "occupancy_status" is presence
        return _one(node, Kind.PRESENCE, value, received_at, ctx, ("ON", "OFF"))
    if "status" in obj_id:
        return _one(node, Kind.AVAILABILITY, value, received_at, ctx, ("ON", "OFF"))
    return Decoded.nothing(f"binary sensor {obj_id!r} is not occupancy", node)


def _sensor_state(
    node: str, obj_id: str, value: str, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """A numeric ``sensor`` state: battery, count, or presence as 0/1."""
    kind = (
        Kind.BATTERY
        if "battery" in obj_id
        else Kind.COUNT
        if _COUNT.search(obj_id)
        else None
    )
    if kind is None and _PRESENCE.search(obj_id) and value in ("0", "1", "0.0", "1.0"):
        # a presence state exposed as a numeric sensor (template sensors)
        return _one(node, Kind.PRESENCE, "ON" if float(value) else "OFF", received_at,
                    ctx, ("ON", "OFF"))  # fmt: skip
    if kind is None:
        return Decoded.nothing(f"sensor {obj_id!r} is not a count or battery", node)
    number = _sensor_number(node, value)
    if isinstance(number, Decoded):
        return number
    st = stamp(node, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    if kind is Kind.BATTERY:
        st.add_battery(number)
    else:
        st.add(Kind.COUNT, float(round(number)))
    return st.done()


def _sensor_number(node: str, value: str) -> float | Decoded:
    """The state as a finite number >= 0, or why it is none (``nan``) or refused."""
    try:
        number = float(value)
    except ValueError:
        return Decoded.refuse(
            "bad_value", f"sensor state {value[:30]!r} is not a number", node
        )
    if math.isnan(number):
        return Decoded.nothing("nan: no valid value (never 0)", node)
    if not math.isfinite(number) or number < 0:
        return Decoded.refuse("bad_value", f"sensor state {value[:30]!r}", node)
    return number


def _one(
    node: str,
    kind: Kind,
    value: str,
    received_at: dt.datetime,
    ctx: DecodeContext,
    allowed: tuple[str, str],
) -> Decoded:
    if value.upper() in allowed:
        value = value.upper()  # ESPHome sends ON/OFF; look-alike firmware on/off
    if value not in allowed:
        return Decoded.refuse(
            "bad_value", f"expected {' or '.join(allowed)}, got {value[:30]!r}", node
        )
    st = stamp(node, None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    b = as_bool(value)
    st.add(kind, float(b is True))
    discovered = (
        (Discovered(node, FAMILY, f"{node}/status"),)
        if kind is Kind.AVAILABILITY
        else ()
    )
    return Decoded(events=tuple(st.events), device_id=node, discovered=discovered)
