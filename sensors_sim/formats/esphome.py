"""ESPHome MQTT: plain-text states, retained, on
``<device>/binary_sensor/presence/state`` (ON/OFF), ``<device>/sensor/people/state``,
``<device>/sensor/battery/state``; availability ``<device>/status``."""

from __future__ import annotations

import logging

from sensors_sim.formats.context import EncodeContext

logger = logging.getLogger(__name__)


def encode(
    device_id: str,
    kind: str,
    ts_ms: int,
    value: float,
    seq: int,
    beacons: str,
    ctx: EncodeContext,
) -> list[tuple[str, bytes, bool]]:
    if kind == "status":
        return [(f"{device_id}/status", b"online" if value else b"offline", True)]
    if kind in ("presence", "heartbeat"):
        topic = f"{device_id}/binary_sensor/presence/state"
        return [(topic, b"ON" if value else b"OFF", True)]
    if kind == "count":
        return [(f"{device_id}/sensor/people/state", str(int(value)).encode(), True)]
    if kind == "battery":
        return [(f"{device_id}/sensor/battery/state", str(int(value)).encode(), True)]
    return []
