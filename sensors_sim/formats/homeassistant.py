"""A sensor announced by Home Assistant MQTT discovery: the retained config
``homeassistant/binary_sensor/<device>/occupancy/config`` (sent with the
status rows), state ``office/<device>/occupancy`` (``ON``/``OFF``) and
availability ``office/<device>/availability``. Count rows: presence."""

from __future__ import annotations

import json
import logging

from sensors_sim.formats.context import EncodeContext

logger = logging.getLogger(__name__)


def config(device_id: str) -> bytes:
    """The discovery config of ``device_id``'s occupancy entity."""
    body = {
        "name": f"{device_id} occupancy",
        "device_class": "occupancy",
        "state_topic": f"office/{device_id}/occupancy",
        "availability_topic": f"office/{device_id}/availability",
        "unique_id": f"{device_id}-occupancy",
        "device": {"identifiers": [device_id], "name": device_id},
    }
    return json.dumps(body, separators=(",", ":")).encode()


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
        cfg = f"homeassistant/binary_sensor/{device_id}/occupancy/config"
        state = b"online" if value else b"offline"
        return [
            (cfg, config(device_id), True),
            (f"office/{device_id}/availability", state, True),
        ]
    if kind not in ("presence", "heartbeat", "count"):
        return []
    return [(f"office/{device_id}/occupancy", b"ON" if value > 0 else b"OFF", False)]
