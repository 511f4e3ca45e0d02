"""ESPresense room nodes: ``espresense/devices/<beacon id>/<room>`` per BLE
sighting, ``espresense/rooms/<room>/status`` (retained LWT) and
``espresense/rooms/<room>/motion`` (a PIR on the node: ``ON``/``OFF``)."""

from __future__ import annotations

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
    room = f"espresense/rooms/{device_id}"
    if kind == "status":
        return [(f"{room}/status", b"online" if value else b"offline", True)]
    if kind in ("presence", "heartbeat"):
        return [(f"{room}/motion", b"ON" if value else b"OFF", False)]
    if kind != "ble" or not beacons:
        return []
    out = []
    for b in json.loads(f"[{beacons}]"):
        bid = f"iBeacon:{b['id']}"
        body = {"id": bid, "rssi@1m": -59, "rssi": b["rssi"], "distance": 2.0}
        payload = json.dumps(body, separators=(",", ":")).encode()
        out.append((f"espresense/devices/{bid}/{device_id}", payload, False))
    return out
