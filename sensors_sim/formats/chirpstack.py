"""ChirpStack v4 uplink events: ``application/<app>/device/<dev_eui>/event/up``
with ``deviceInfo.deviceName``, ``fCnt``, ``time`` and the codec output in
``object`` (Milesight style: ``occupancy`` ``"occupied"``/``"vacant"``,
``people_count_all``); ``event/status`` ``batteryLevel`` [%]. No LWT."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from sensors_sim.formats.context import EncodeContext

logger = logging.getLogger(__name__)


def dev_eui(device_id: str) -> str:
    """A stable 16-hex-digit DevEUI for ``device_id``."""
    return hashlib.sha256(device_id.encode()).hexdigest()[:16]


def encode(
    device_id: str,
    kind: str,
    ts_ms: int,
    value: float,
    seq: int,
    beacons: str,
    ctx: EncodeContext,
) -> list[tuple[str, bytes, bool]]:
    app = ctx.get("chirpstack_app", "office")
    eui = dev_eui(device_id)
    at = dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC)
    base: dict[str, Any] = {
        "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "deviceInfo": {"deviceName": device_id, "devEui": eui},
    }
    topic = f"application/{app}/device/{eui}/event"
    if kind == "battery":
        body = {**base, "batteryLevel": float(value)}
        return [(f"{topic}/status", json.dumps(body).encode(), False)]
    if kind in ("presence", "heartbeat"):
        obj: dict[str, Any] = {"occupancy": "occupied" if value else "vacant"}
    elif kind == "count":
        obj = {"people_count_all": int(value)}
    else:
        return []
    body = {**base, "fCnt": seq, "fPort": 85, "object": obj}
    return [(f"{topic}/up", json.dumps(body, separators=(",", ":")).encode(), False)]
