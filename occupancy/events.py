"""Normalized event types: what every decoder produces and the ingester stores.

One event is one observation by one device at one instant (``ts``, timezone-aware
UTC, the device's event time). The column vocabulary here is the project's:
the database tables ``sensor_events`` and ``badge_sightings`` have exactly these
columns (plus ``received_at`` and the space the device covers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BADGE_COLUMNS",
    "EVENT_COLUMNS",
    "Event",
    "Kind",
    "Rejection",
    "TsSource",
]


class Kind(StrEnum):
    """What an event says.

    ``value`` meaning per kind:

    - ``presence``: 1.0 occupied, 0.0 vacant, ``None`` unknown (a state change or
      a report of the current state).
    - ``heartbeat``: the device is alive; ``value`` repeats its current presence
      state (1.0/0.0/None) so a heartbeat alone keeps a session going.
    - ``count``: number of people in the covered space [people].
    - ``motion``: a motion trigger (PIR pulse) [1.0]; presence must be derived
      with a hold time, it is not a state.
    - ``battery``: battery level [%].
    - ``availability``: 1.0 online, 0.0 offline (LWT/availability topics).
    - ``badge``: stored in ``badge_sightings``, never in ``sensor_events``.
    """

    PRESENCE = "presence"
    HEARTBEAT = "heartbeat"
    COUNT = "count"
    MOTION = "motion"
    BATTERY = "battery"
    AVAILABILITY = "availability"
    BADGE = "badge"


class TsSource(StrEnum):
    """Where an event's ``ts`` came from."""

    DEVICE = "device"  # the payload's own timestamp, trusted
    ARRIVAL = "arrival"  # no timestamp in the payload: the ingester's receive time
    CORRECTED = "corrected"  # device clock ahead of arrival: receive time used, flagged
    LATE = (
        "late"  # device time far in the past: kept (late or buffered delivery), flagged
    )


@dataclass(frozen=True, slots=True)
class Event:
    """One normalized observation.

    ``seq`` is the device's message sequence number when the format has one
    (our own format, LoRaWAN f_cnt), else -1. Together with ``device_id``,
    ``kind`` and ``ts`` it is the idempotency key of ``sensor_events``.
    ``badge`` is the *pseudonymised* badge id (never a raw id) for ``Kind.BADGE``.
    """

    ts: dt.datetime
    device_id: str
    kind: Kind
    value: float | None = None
    seq: int = -1
    badge: str | None = None
    rssi: float | None = None
    ts_source: TsSource = TsSource.DEVICE
    family: str = "occupancy"

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None or self.ts.utcoffset() != dt.timedelta(0):
            raise ValueError(f"Event.ts must be timezone-aware UTC, got {self.ts!r}")

    def as_json(self) -> dict[str, object]:
        """A JSON-ready dict (used by ``occupancy decode``)."""
        out: dict[str, object] = {
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "device_id": self.device_id,
            "kind": str(self.kind),
            "value": self.value,
            "seq": self.seq,
            "ts_source": str(self.ts_source),
            "family": self.family,
        }
        if self.kind is Kind.BADGE:
            out["badge"] = self.badge
            out["rssi"] = self.rssi
        return out


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message was refused. ``reason`` is a short stable code
    (``bad_json``, ``unknown_device``, ``too_large``, ...) and ``detail`` says
    what exactly was wrong, naming the bad field."""

    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


#: Columns of ``sensor_events`` in COPY order.
EVENT_COLUMNS = (
    "ts",
    "device_id",
    "space_id",
    "kind",
    "value",
    "seq",
    "ts_source",
    "family",
    "received_at",
)

#: Columns of ``badge_sightings`` in COPY order.
BADGE_COLUMNS = (
    "ts",
    "device_id",
    "zone_id",
    "badge",
    "rssi",
    "seq",
    "ts_source",
    "family",
    "received_at",
)
