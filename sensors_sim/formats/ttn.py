"""The Things Stack v3 uplinks: ``v3/<app>@<tenant>/devices/<device>/up`` with
``received_at``, ``uplink_message.f_cnt`` and a decoded payload
(``{"occupancy":1}`` Elsys style for desks, ``{"people_count":n}`` for counters).
LoRaWAN devices have no LWT: status rows produce nothing."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sensors_sim.formats.context import EncodeContext

logger = logging.getLogger(__name__)


def _iso(ts_ms: int) -> str:
    t = dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode(
    device_id: str,
    kind: str,
    ts_ms: int,
    value: float,
    seq: int,
    beacons: str,
    ctx: EncodeContext,
) -> list[tuple[str, bytes, bool]]:
    if kind in ("presence", "heartbeat"):
        decoded: dict[str, Any] = {"occupancy": int(value)}
    elif kind == "count":
        decoded = {"people_count": int(value)}
    elif kind == "battery":
        decoded = {"battery": int(value)}
    else:
        return []
    app, tenant = (
        ctx.get("ttn_app", "workplace-occupancy"),
        ctx.get("ttn_tenant", "ttn"),
    )
    at = _iso(ts_ms)
    body = {
        "end_device_ids": {
            "device_id": device_id,
            "application_ids": {"application_id": app},
        },
        "received_at": at,
        "uplink_message": {
            "f_port": 1,
            "f_cnt": seq,
            "decoded_payload": decoded,
            "received_at": at,
        },
    }
    topic = f"v3/{app}@{tenant}/devices/{device_id}/up"
    return [(topic, json.dumps(body, separators=(",", ":")).encode(), False)]
