"""The decoder registry: which family decodes a topic, and the device check.

:func:`decode` is the contract every caller uses (the ingester, ``occupancy
decode``, tests): ``(topic, payload, received_at, ctx) -> list[Event] | Rejection``.
:func:`decode_message` returns the richer :class:`Decoded` (devices announced
by availability/discovery messages too). Both are pure and never raise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ingest.context import DecodeContext
from ingest.decoders import (
    esphome,
    espresense,
    generic,
    homeassistant,
    openmqttgateway,
    others,
    own,
    tasmota,
    ttn,
    zigbee2mqtt,
)
from ingest.decoders.common import Decoded, FamilyDecoder
from occupancy.events import Event, Kind, Rejection

logger = logging.getLogger(__name__)

__all__ = ["FAMILIES", "Family", "decode", "decode_message", "family_for"]

#: Longest topic accepted [characters].
MAX_TOPIC_CHARS = 512


@dataclass(frozen=True)
class Family:
    """A device family: its name, which topics it claims, its decoder."""

    name: str
    matches: Callable[[str, DecodeContext], bool]
    decode: FamilyDecoder


def _m(fn: Callable[[str], bool]) -> Callable[[str, DecodeContext], bool]:
    return lambda topic, ctx: fn(topic)


#: In matching order: specific prefixes first, ESPHome's generic shapes last.
FAMILIES: tuple[Family, ...] = (
    Family("occupancy", own.matches_own, own.decode_own),
    # state topics learnt from Home Assistant discovery (exact topics)
    Family(
        "homeassistant-state",
        _m(homeassistant.matches_state),
        homeassistant.decode_state,
    ),
    Family("zigbee2mqtt", _m(zigbee2mqtt.matches), zigbee2mqtt.decode),
    Family("homeassistant", _m(homeassistant.matches), homeassistant.decode),
    Family("ttn", _m(ttn.matches), ttn.decode),
    Family("chirpstack", _m(ttn.matches_chirpstack), ttn.decode_chirpstack),
    Family("espresense", _m(espresense.matches), espresense.decode),
    Family("openmqttgateway", _m(openmqttgateway.matches), openmqttgateway.decode),
    Family("tasmota", _m(tasmota.matches), tasmota.decode),
    Family("shelly", _m(others.matches_shelly), others.decode_shelly),
    Family("pressac", _m(others.matches_pressac), others.decode_pressac),
    Family("sparkplug", _m(others.matches_sparkplug), others.decode_sparkplug),
    Family("esphome", _m(esphome.matches), esphome.decode),
    # last resort: a bare on/off state on a topic naming motion/occupancy
    Family("mqtt", _m(generic.matches), generic.decode),
)
_BY_NAME = {f.name: f for f in FAMILIES}

#: Families by ``(topic, topic_root)`` (the matchers look at nothing else): a
#: device publishes on the same few topics all day, and walking every matcher
#: took a third of decoding an ESPHome message (the last family).
_FAMILIES: dict[tuple[str, str], Family | None] = {}
_FAMILY_CACHE_MAX = 8192
#: The family table the cache was filled from (tests replace ``FAMILIES``).
_CACHED_FROM: list[tuple[Family, ...]] = [FAMILIES]


def family_for(topic: str, ctx: DecodeContext) -> Family | None:
    """The family whose topic pattern claims ``topic``; a device's ``topic`` in
    the building file (exact match) selects that device's family instead."""
    override = ctx.topic_overrides.get(topic)
    if override is not None and override.family in _BY_NAME:
        return _BY_NAME[override.family]
    if homeassistant.ENTITIES.get(topic):
        return _BY_NAME["homeassistant-state"]
    families = FAMILIES
    if _CACHED_FROM[0] is not families:
        _FAMILIES.clear()
        _CACHED_FROM[0] = families
    key = (topic, ctx.topic_root)
    try:
        return _FAMILIES[key]
    except KeyError:
        pass
    found = next((fam for fam in families if fam.matches(topic, ctx)), None)
    if len(_FAMILIES) >= _FAMILY_CACHE_MAX:
        _FAMILIES.clear()  # bounded: random topics cannot grow it
    _FAMILIES[key] = found
    return found


def decode_message(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> Decoded:
    """Decode one message and check its device against ``ctx``. Never raises:
    an unexpected error inside a decoder becomes an ``internal_error`` rejection."""
    if len(topic) > MAX_TOPIC_CHARS or "\x00" in topic:
        return Decoded.refuse(
            "bad_topic", f"topic longer than {MAX_TOPIC_CHARS} or with NUL"
        )
    if len(payload) > ctx.max_payload_bytes:
        return Decoded.refuse(
            "too_large", f"{len(payload)} bytes > {ctx.max_payload_bytes}"
        )
    fam = family_for(topic, ctx)
    override = ctx.topic_overrides.get(topic)
    if override is not None:
        ctx = dataclasses.replace(ctx, device_override=override.device_id)
    if fam is None:
        return Decoded.refuse("unknown_topic", f"no decoder for topic {topic[:120]!r}")
    try:
        result = fam.decode(topic, payload, received_at, ctx)
    except Exception as exc:  # a decoder bug must not stop the ingester
        logger.exception("decoder %s failed on %s", fam.name, topic)
        return Decoded.refuse(
            "internal_error", f"{fam.name}: {type(exc).__name__}: {exc}"[:300]
        )
    return _check_device(topic, result, ctx)


def _check_device(topic: str, result: Decoded, ctx: DecodeContext) -> Decoded:
    override = ctx.topic_overrides.get(topic)
    if override is not None and result.events:
        events = tuple(
            dataclasses.replace(e, device_id=override.device_id) for e in result.events
        )
        result = dataclasses.replace(
            result, events=events, device_id=override.device_id
        )
    if result.rejection is not None or not result.events or ctx.devices is None:
        return result
    devices = ctx.devices
    if len(result.events) == 1:  # the common case, without sets and sorting
        info = devices.get(result.events[0].device_id)
        if info is not None and (
            info.assigned or result.events[0].kind is Kind.AVAILABILITY
        ):
            return result
    unknown = sorted(
        {e.device_id for e in result.events if e.device_id not in ctx.devices}
    )
    kinds = tuple(sorted({str(e.kind) for e in result.events}))
    family = result.events[0].family
    if unknown:
        return dataclasses.replace(
            result,
            events=(),
            kinds=kinds,
            family=family,
            rejection=Rejection(
                "unknown_device",
                f"device {unknown[0]!r} is not in the building file (add it "
                "under devices:, see occupancy devices discover)",
            ),
            device_id=unknown[0],
        )
    unassigned = sorted(
        {e.device_id for e in result.events if not ctx.devices[e.device_id].assigned}
    )
    if unassigned and any(e.kind is not Kind.AVAILABILITY for e in result.events):
        return dataclasses.replace(
            result,
            events=(),
            kinds=kinds,
            family=family,
            rejection=Rejection(
                "unassigned_device",
                f"device {unassigned[0]!r} is not placed in the building",
            ),
            device_id=unassigned[0],
        )
    return result


def decode(
    topic: str, payload: bytes, received_at: dt.datetime, ctx: DecodeContext
) -> list[Event] | Rejection:
    """The decoder contract: normalized events (maybe none), or why not."""
    result = decode_message(topic, payload, received_at, ctx)
    if result.rejection is not None:
        return result.rejection
    return list(result.events)
