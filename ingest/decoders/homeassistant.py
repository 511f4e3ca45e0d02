"""Home Assistant MQTT discovery and the state topics it describes.

Discovery: ``homeassistant/<component>/[<node>/]<object>/config`` (one entity)
and ``homeassistant/device/<node>/config`` (``cmps``: several entities).
Discovery messages are never events. An occupancy-like entity
(``binary_sensor`` with ``device_class`` motion, occupancy or presence; a
``sensor`` counting people) makes its device known as *unassigned*, and its
``state_topic`` is remembered: later messages on it are decoded with the
entity's ``payload_on``/``payload_off`` (defaults ``ON``/``OFF``) and a plain
key ``value_template`` (``{{ value_json.occupancy }}``,
``{{ value_json['occupied'] }}``, ``{{ value }}``); an ``availability_topic``
with ``payload_available``/``payload_not_available`` (defaults
``online``/``offline``) gives availability. Abbreviations (``stat_t``,
``pl_on``, ``dev_cla``, ``val_tpl``, ``avty_t``...) and ``~`` are understood.

When the state topic belongs to a family decoded anyway (zigbee2mqtt, ESPHome,
Tasmota), that family decodes it; the device id and family come from it.
Otherwise the device id is the discovery node id (else the object id).
Empty config (entity deleted) and ``homeassistant/status`` (HA birth) are ignored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.context import DecodeContext, Discovered
from ingest.decoders import ha_templates
from ingest.decoders.common import Decoded, stamp
from ingest.payload import as_bool, as_number, parse_json, parse_text
from occupancy.device_ids import device_id_problem
from occupancy.events import Kind, Rejection

logger = logging.getLogger(__name__)

FAMILY = "homeassistant"
_CONFIG = re.compile(r"^homeassistant/([^/]+)/(?:([^/]+)/)?([^/]+)/config$")
_CLASSES = ("motion", "occupancy", "presence")
_PEOPLE_UNITS = ("people", "persons", "person", "pers", "personen")
_TEMPLATE = re.compile(
    r"^\{\{\s*value_json(?:\.(\w+)|\[\s*['\"]([^'\"]+)['\"]\s*\])\s*\}\}$"
)
_ABBREVIATIONS = {
    "stat_t": "state_topic",
    "pl_on": "payload_on",
    "pl_off": "payload_off",
    "dev_cla": "device_class",
    "val_tpl": "value_template",
    "avty_t": "availability_topic",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    "unit_of_meas": "unit_of_measurement",
    "avty": "availability",
    "p": "platform",
}
_MAX_ENTITIES = 8192


@dataclass(frozen=True)
class Entity:
    """A state (or availability) topic learnt from a discovery config."""

    device_id: str
    kind: Kind
    payload_on: str = "ON"
    payload_off: str = "OFF"
    #: ``None``: the payload itself; else the JSON key to read.
    key: str | None = None
    #: The value_template when it is not a plain key lookup: read by
    #: :mod:`ingest.decoders.ha_templates` (nested keys, if/else between two
    #: words), refused when it is none of those shapes.
    template: str | None = None
    #: The family of the events (``esphome`` for an ESPHome node's entity).
    family: str = FAMILY


#: Topics learnt from discovery: bounded, process-wide (discovery configs are
#: retained, so a restarted ingester learns them again on subscribe).
ENTITIES: dict[str, Entity] = {}


def save_entities(path: Path) -> None:
    """Write :data:`ENTITIES` to ``path`` (``occupancy decode`` remembers the
    discovery configs it was shown between runs)."""
    rows = [{"topic": t, **dataclasses.asdict(e)} for t, e in ENTITIES.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def load_entities(path: Path) -> None:
    """Add the entities saved by :func:`save_entities` (missing file: none)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for r in rows if isinstance(rows, list) else []:
        try:
            topic = r.pop("topic")
            ENTITIES[topic] = Entity(**{**r, "kind": Kind(r["kind"])})
        except (KeyError, TypeError, ValueError):
            logger.warning("ignoring a bad saved discovery entity in %s", path)


def matches(topic: str) -> bool:
    return topic.startswith("homeassistant/")


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    m = _CONFIG.match(topic)
    if not m:
        return _statestream(topic, payload, received_at, ctx)
    if not payload.strip():
        return Decoded.nothing("entity removed (empty discovery config)")
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj)
    if not isinstance(obj, dict):
        return Decoded.refuse("bad_json", "discovery config is not a JSON object")
    node = m.group(2) or m.group(3)
    if m.group(1) == "device" and isinstance(obj.get("cmps"), dict):
        configs = [
            (str(c.get("platform", c.get("p", ""))), {**obj, **c})
            for c in obj["cmps"].values()
            if isinstance(c, dict)
        ]
    else:
        configs = [(m.group(1), obj)]
    found: list[Discovered] = []
    for component, config in configs:
        d = _entity(component, _expand(config), node, topic)
        if isinstance(d, Rejection):
            return Decoded(rejection=d)
        if d is not None:
            found.append(d)
    if not found:
        return Decoded.nothing("discovery of an entity that is not occupancy-like")
    return Decoded(discovered=tuple(found), note="discovery config: device announced")


_STATESTREAM = re.compile(r"^homeassistant/binary_sensor/(.+)/state$")
_OCCUPANCY_NAME = re.compile(r"motion|occupan|presence|pir|radar|mmwave")


def _statestream(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """MQTT Statestream (``homeassistant/binary_sensor/<entity>/state``,
    ``on``/``off``) of an entity whose id names motion/occupancy/presence."""
    m = _STATESTREAM.match(topic)
    if not m or not _OCCUPANCY_NAME.search(m.group(1)):
        return Decoded.nothing("Home Assistant status, attribute or other entity")
    st = stamp(m.group(1), None, received_at, ctx, FAMILY)
    if isinstance(st, Decoded):
        return st
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=m.group(1))
    bad = st.add_bool(Kind.PRESENCE, text.strip(), "state")
    return Decoded(rejection=bad, device_id=m.group(1)) if bad else st.done()


def _expand(obj: dict[str, Any]) -> dict[str, Any]:
    out = {_ABBREVIATIONS.get(k, k): v for k, v in obj.items()}
    base = out.get("~")
    if isinstance(base, str):
        for k, v in out.items():
            if isinstance(v, str) and k.endswith("_topic"):
                out[k] = (
                    v.replace("~", base) if v.startswith("~") or v.endswith("~") else v
                )
    return out


def _entity(
    component: str, obj: dict[str, Any], node: str, topic: str
) -> Discovered | Rejection | None:
    kind = _kind(component, obj)
    if kind is None:
        return None
    state_topic = str(obj.get("state_topic") or "")
    device, family = _source(state_topic, node)
    problem = device_id_problem(device)
    if problem is not None:
        return Rejection(
            "bad_device_id", f"discovered device id {device[:80]!r} {problem}"
        )
    if family in _REMEMBERED and state_topic:
        _remember(state_topic, device, kind, obj, family)
    return Discovered(device, family, state_topic or topic, (str(kind),))


def _kind(component: str, obj: dict[str, Any]) -> Kind | None:
    if component == "binary_sensor" and obj.get("device_class") in _CLASSES:
        return Kind.PRESENCE
    unit = str(obj.get("unit_of_measurement", "")).lower()
    if component == "sensor" and unit in _PEOPLE_UNITS:
        return Kind.COUNT
    return None


#: Families whose state topics the config describes: ours, and ESPHome's plain
#: ``ON``/``OFF`` states (the config's ``device_class`` says a binary sensor is
#: motion/occupancy whatever its object id, e.g. ``spisebord_mw``).
_REMEMBERED = (FAMILY, "esphome")


def _remember(
    state_topic: str, device: str, kind: Kind, obj: dict[str, Any], family: str
) -> None:
    if len(ENTITIES) >= _MAX_ENTITIES:
        ENTITIES.clear()
    template = obj.get("value_template")
    key: str | None = None
    other: str | None = None
    if isinstance(template, str) and template.strip() not in (
        "{{ value }}",
        "{{value}}",
    ):
        tm = _TEMPLATE.match(template.strip())
        if tm:
            key = tm.group(1) or tm.group(2)
        else:
            other = template
    ENTITIES[state_topic] = Entity(
        device,
        kind,
        _text(obj.get("payload_on"), "ON"),
        _text(obj.get("payload_off"), "OFF"),
        key,
        other,
        family,
    )
    if family != FAMILY:
        return  # the family's own availability topic is decoded natively
    avail = obj.get("availability_topic")
    if isinstance(obj.get("availability"), list) and obj["availability"]:
        first = obj["availability"][0]
        avail = first.get("topic", first.get("t")) if isinstance(first, dict) else None
    if isinstance(avail, str) and avail and avail not in ENTITIES:
        ENTITIES[avail] = Entity(
            device,
            Kind.AVAILABILITY,
            _text(obj.get("payload_available"), "online"),
            _text(obj.get("payload_not_available"), "offline"),
        )


def _text(value: object, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches_state(topic: str) -> bool:
    return topic in ENTITIES


def decode_state(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """A state or availability topic learnt from discovery."""
    ent = ENTITIES.get(topic)
    if ent is None:
        return Decoded.nothing("no discovery config seen for this topic")
    value = _state_value(ent, payload, ctx)
    if isinstance(value, Decoded):
        return value
    st = stamp(ent.device_id, None, received_at, ctx, ent.family)
    if isinstance(st, Decoded):
        return st
    if ent.kind is Kind.COUNT:
        n = as_number(value)
        if n is None or n < 0:
            return Decoded.refuse("bad_value", f"people count {value!r}", ent.device_id)
        st.add(Kind.COUNT, float(round(n)))
        return st.done()
    word = _text(value, "").strip()
    if word.lower() == ent.payload_on.lower():
        st.add(ent.kind, 1.0)
    elif word.lower() == ent.payload_off.lower():
        st.add(ent.kind, 0.0)
    else:
        b = as_bool(value)
        if not isinstance(b, bool):
            return Decoded.refuse(
                "bad_value",
                f"{word[:30]!r} is neither payload_on {ent.payload_on!r} nor "
                f"payload_off {ent.payload_off!r}",
                ent.device_id,
            )
        st.add(ent.kind, float(b))
    return st.done()


def _state_value(ent: Entity, payload: bytes, ctx: DecodeContext) -> object:
    """What the entity's template makes of the payload, or the refusal."""
    tpl = ha_templates.parse(ent.template) if ent.template is not None else None
    if ent.template is not None and tpl is None:
        return Decoded.refuse(
            "unsupported_template",
            f"value_template {ent.template[:60]!r} is not a key lookup or an "
            "if/else between two words",
            ent.device_id,
        )
    text = parse_text(payload, ctx.max_payload_bytes)
    if isinstance(text, Rejection):
        return Decoded(rejection=text, device_id=ent.device_id)
    if ent.key is None and tpl is None:
        return text.strip()
    obj = parse_json(payload, ctx.max_payload_bytes, ctx.max_depth)
    if isinstance(obj, Rejection):
        return Decoded(rejection=obj, device_id=ent.device_id)
    try:
        if tpl is not None:
            return ha_templates.evaluate(tpl, obj)
        if isinstance(obj, dict) and ent.key in obj:
            return obj[ent.key]
    except ha_templates.Missing:
        pass
    return Decoded.refuse(
        "missing_field",
        f"state without {ent.key or ent.template!r}"[:120],
        ent.device_id,
    )


#: State topics of families decoded natively (their decoder, not the config,
#: reads them): pattern, family, the group that is the device id.
_NATIVE: tuple[tuple[re.Pattern[str], str, int], ...] = (
    (re.compile(r"^(?:zigbee2mqtt[A-Za-z0-9_-]*|z2m)/(.+)$"), "zigbee2mqtt", 1),
    (re.compile(r"^(.+)/(?:binary_sensor|sensor)/[^/]+/state$"), "esphome", 1),
    (re.compile(r"^(?:tele|stat)/([^/]+)/[^/]+$"), "tasmota", 1),
    (re.compile(r"^shellies/([^/]+)/.+$"), "shelly", 1),
    (re.compile(r"^(.+)/(?:events/rpc|status/[a-z0-9_]+:\d+)$"), "shelly", 1),
    (re.compile(r"^espresense/rooms/([^/]+)/.+$"), "espresense", 1),
    (re.compile(r"^home/([^/]+)/[A-Za-z0-9]+toMQTT(?:/.*)?$"), "openmqttgateway", 1),
)


def _source(state_topic: str, node: str) -> tuple[str, str]:
    for pattern, family, group in _NATIVE:
        m = pattern.match(state_topic)
        if m and not state_topic.startswith("homeassistant/"):
            return m.group(group), family
    return node, FAMILY
