"""Encoders per device family: turn simulated message rows into the topic and
payload the real device would publish. ``occupancy`` (our own format) is
vectorized; the other families encode row by row (they are a minority)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import (
    chirpstack,
    esphome,
    espresense,
    homeassistant,
    mqtt,
    openmqttgateway,
    pressac,
    shelly,
    tasmota,
    ttn,
    zigbee2mqtt,
)
from .context import EncodeContext, EncodeOptions

logger = logging.getLogger(__name__)

__all__ = ["ROW_ENCODERS", "EncodeContext", "EncodeOptions", "RowEncoder"]

#: (device_id, kind, ts_ms, value, seq, beacons, ctx) -> [(topic, payload, retain)]
RowEncoder = Callable[
    [str, str, int, float, int, str, EncodeContext], list[tuple[str, bytes, bool]]
]

ROW_ENCODERS: dict[str, RowEncoder] = {
    "zigbee2mqtt": zigbee2mqtt.encode,
    "esphome": esphome.encode,
    "tasmota": tasmota.encode,
    "ttn": ttn.encode,
    "openmqttgateway": openmqttgateway.encode,
    "shelly": shelly.encode,
    "pressac": pressac.encode,
    "espresense": espresense.encode,
    "homeassistant": homeassistant.encode,
    "chirpstack": chirpstack.encode,
    "mqtt": mqtt.encode,
}
