"""What a decoder may know besides the message: the :class:`DecodeContext`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

__all__ = ["DecodeContext", "DeviceInfo", "Discovered"]


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A device as the ingester knows it (from the ``devices`` table)."""

    device_id: str
    kind: str = "unknown"
    family: str = "occupancy"
    space_id: str | None = None
    zone_id: str | None = None
    topic: str | None = None
    assigned: bool = True

    @property
    def covers(self) -> str | None:
        """The space id stored with its events: desk/room, else zone."""
        return self.space_id or self.zone_id


@dataclass(frozen=True, slots=True)
class Discovered:
    """A device announced by an availability or discovery message."""

    device_id: str
    family: str
    topic: str
    #: What the device reports, when the announcement says (event kinds).
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecodeContext:
    """Everything a decoder may use besides topic, payload and arrival time.

    ``devices`` is ``None`` to accept any device id (``occupancy decode`` without
    a building, tests); otherwise a device missing from it is refused.
    ``max_clock_skew_s`` [s]: a device time further than this from arrival is
    replaced by the arrival time (``TsSource.CORRECTED``); 0 disables the check
    (replaying recorded data).
    """

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    max_clock_skew_s: float = 300.0
    pseudonym_key: str | None = None
    topic_root: str = "occupancy"
    site: str | None = None
    devices: Mapping[str, DeviceInfo] | None = None
    topic_overrides: Mapping[str, DeviceInfo] = field(default_factory=dict)
    max_payload_bytes: int = 65536
    max_depth: int = 32
    #: Set per message when the topic is a device's ``topic`` in the building.
    device_override: str | None = None

    def lookup(self, device_id: str) -> DeviceInfo | None:
        if self.devices is None:
            return DeviceInfo(device_id)
        return self.devices.get(device_id)

    @staticmethod
    def from_devices(
        devices: list[DeviceInfo] | None, **kwargs: object
    ) -> DecodeContext:
        """A context whose lookup tables are built from ``devices``."""
        if devices is None:
            return DecodeContext(**kwargs)  # type: ignore[arg-type]
        by_id = {d.device_id: d for d in devices}
        overrides = {d.topic: d for d in devices if d.topic}
        return DecodeContext(devices=by_id, topic_overrides=overrides, **kwargs)  # type: ignore[arg-type]


def utc(ts: dt.datetime) -> dt.datetime:
    """``ts`` converted to UTC (must be aware)."""
    return ts.astimezone(dt.UTC)
