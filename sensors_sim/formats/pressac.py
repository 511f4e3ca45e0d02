"""Pressac under-desk sensors behind a Smart Gateway on Azure IoT Hub, as
Node-RED forwards them: ``devices/<gateway>/messages/events/`` with the
message in ``d2cMessage``; ``timestamp`` local ``YYYY-MM-DD HH:MM:SS``,
``motionDetected``. No LWT, no battery percentage (count rows: presence)."""

from __future__ import annotations

import datetime as dt
import json
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
    gateway = ctx.get("pressac_gateway", "SIPG-01")
    local = dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).astimezone(ctx["tz"])
    body = {
        "d2cMessage": {
            "timestamp": local.strftime("%Y-%m-%d %H:%M:%S"),
            "deviceName": device_id,
            "deviceId": device_id,
            "deviceType": "Under-Desk-Sensor",
            "gatewayName": gateway,
            "dBm": "-61",
            "motionDetected": value > 0,
        }
    }
    payload = json.dumps(body, separators=(",", ":")).encode()
    return [(f"devices/{gateway}/messages/events/", payload, False)]
