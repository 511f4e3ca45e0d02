"""OpenMQTTGateway BLE: one message per beacon seen,
``home/<gateway>/BTtoMQTT/<MAC without colons>`` ``{"id":"aa:bb:..","rssi":-70}``;
availability ``home/<gateway>/LWT`` online/offline (retained)."""

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
    if kind == "status":
        return [(f"home/{device_id}/LWT", b"online" if value else b"offline", True)]
    if kind != "ble" or not beacons:
        return []
    out = []
    for b in json.loads(f"[{beacons}]"):
        mac = str(b["id"])
        topic = f"home/{device_id}/BTtoMQTT/{mac.replace(':', '').upper()}"
        payload = json.dumps({"id": mac, "rssi": b["rssi"]}, separators=(",", ":"))
        out.append((topic, payload.encode(), False))
    return out
