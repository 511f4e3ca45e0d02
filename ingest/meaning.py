"""What a decoded message means, in words (``occupancy decode``)."""

from __future__ import annotations

import logging

from ingest.context import DecodeContext
from occupancy.events import Event, Kind

logger = logging.getLogger(__name__)

__all__ = ["describe"]

_PRESENCE = {1.0: "occupied", 0.0: "vacant", None: "unknown (neither)"}


def describe(event: Event, ctx: DecodeContext) -> str:
    """One line: what the event says, about which device and space."""
    v = event.value
    if event.kind in (Kind.PRESENCE, Kind.HEARTBEAT):
        what = _PRESENCE.get(v, str(v))
        what = (
            f"presence {what}"
            if event.kind is Kind.PRESENCE
            else (f"heartbeat (alive), presence {what}")
        )
    elif event.kind is Kind.COUNT:
        what = f"people count {v:g}" if v is not None else "people count unknown"
    elif event.kind is Kind.MOTION:
        what = "motion detected (a trigger, not a state)"
    elif event.kind is Kind.BATTERY:
        what = f"battery {v:g} %" if v is not None else "battery unknown"
    elif event.kind is Kind.AVAILABILITY:
        what = "device online" if v else "device offline"
    else:
        what = f"badge sighting (pseudonymised), rssi {event.rssi}"
    info = ctx.lookup(event.device_id)
    where = ""
    if ctx.devices is not None and info is not None and info.covers:
        where = f" in space {info.covers!r}"
    return f"{what}; device {event.device_id!r}{where} ({event.family})"
