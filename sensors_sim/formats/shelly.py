"""Shelly Gen2+: ``<id>/events/rpc`` ``NotifyStatus`` with ``input:0.state`` (a
PIR on the input) and ``params.ts`` (epoch s), ``<id>/online`` (``true``/
``false``, retained LWT). No battery, no head count (count rows: presence)."""

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
        return [(f"{device_id}/online", b"true" if value else b"false", True)]
    if kind not in ("presence", "heartbeat", "count"):
        return []
    body = {
        "src": device_id,
        "dst": f"{device_id}/events",
        "method": "NotifyStatus",
        "params": {"ts": ts_ms / 1000, "input:0": {"id": 0, "state": value > 0}},
    }
    payload = json.dumps(body, separators=(",", ":")).encode()
    return [(f"{device_id}/events/rpc", payload, False)]
