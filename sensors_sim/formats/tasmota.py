"""Tasmota: ``tele/<device>/SENSOR`` JSON with ``Time`` in the device's local
time without zone, ``Switch1`` ON/OFF for presence, ``LD2410S.People`` for
counts; ``tele/<device>/LWT`` Online/Offline (retained)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

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
        return [(f"tele/{device_id}/LWT", b"Online" if value else b"Offline", True)]
    local = dt.datetime.fromtimestamp(ts_ms // 1000, ctx["tz"]).replace(tzinfo=None)
    body: dict[str, Any] = {"Time": local.isoformat(timespec="seconds")}
    if kind in ("presence", "heartbeat"):
        body["Switch1"] = "ON" if value else "OFF"
    elif kind == "count":
        body["LD2410S"] = {"People": int(value)}
    else:
        return []
    return [
        (
            f"tele/{device_id}/SENSOR",
            json.dumps(body, separators=(",", ":")).encode(),
            False,
        )
    ]
