"""A plain MQTT binary sensor (DIY, Node-RED): ``<device>/motion`` with
``ON``/``OFF``. No LWT, no battery (count rows: presence)."""

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
    if kind not in ("presence", "heartbeat", "count"):
        return []
    return [(f"{device_id}/motion", b"ON" if value > 0 else b"OFF", False)]
