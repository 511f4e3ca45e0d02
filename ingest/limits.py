"""Admission after decoding: the per-device rate limit and the age horizon.

Both refuse a decoded message with a reason that is counted like any other
(``rate_limited``, ``too_old``): a device that floods the broker cannot crowd
the others out of the database, and a device clock at 1970 cannot make the
analytics recompute days long closed. The rate limit is a token bucket per
device (a redelivered message keeps its first arrival), refilled by the
arrival clock or by the device's own clock, whichever moved further since the
device's last message: a backlog the broker queued while the ingester was away
arrives in a burst, but its device times are spread over the outage, so it is
judged at the rate the device really sent it. The device clock counts only
while it is behind arrival and at most ``catch_up_s`` behind (a clock ahead of
arrival counts as arrival; one further behind counts as ``catch_up_s``
behind): a device faking old times gains at most ``rate × catch_up_s``
messages once, then the arrival clock rules again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ingest.decoders.common import Decoded

logger = logging.getLogger(__name__)

__all__ = ["NOT_STORED", "Admission"]

#: Reasons counted but not stored in ``rejected_messages``: storing every
#: message of a flood would let the flood fill the database another way.
NOT_STORED = frozenset({"rate_limited"})
#: Devices tracked at most; beyond it the buckets start afresh (ids are
#: validated and unknown ones refused before, so this is a safety bound).
MAX_TRACKED = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # [Unix s] arrival clock of the last refill
    device_at: float  # [Unix s] device clock of the last refill (clamped)


class Admission:
    """``check(decoded, arrived, received_at)``: the decoded message, or a
    refusal. ``rate_per_s`` 0 or ``max_age_s`` 0 turn that check off."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        max_age_s: float,
        catch_up_s: float = 900.0,
    ) -> None:
        self.rate_per_s = max(0.0, float(rate_per_s))
        self.catch_up_s = max(0.0, float(catch_up_s))
        self.burst = max(1.0, float(burst))
        self.max_age = dt.timedelta(seconds=max(0.0, float(max_age_s)))
        self._buckets: dict[str, _Bucket] = {}
        # Verdicts of the rate limit by message (``key``): a batch prepared
        # again after a failed commit must not spend its devices' tokens twice.
        self._limited: dict[int, bool] = {}

    def forget(self, keys: list[int]) -> None:
        """Drop the verdicts of messages that were committed (or dropped)."""
        limited = self._limited
        for k in keys:
            limited.pop(k, None)

    def check(
        self,
        result: Decoded,
        arrived: float,
        received_at: dt.datetime,
        key: int | None = None,
    ) -> Decoded:
        """``result`` admitted, or refused; ``key`` identifies the message
        while it is held (the rate limit judges a message once)."""
        if result.rejection is not None or not result.events:
            return result
        if self.max_age:
            horizon = received_at - self.max_age
            old = [e for e in result.events if e.ts < horizon]
            if old:
                return Decoded.refuse(
                    "too_old",
                    f"device time {old[0].ts.isoformat()} is more than "
                    f"{self.max_age.total_seconds() / 86400:g} days before arrival",
                    result.device_id or old[0].device_id,
                )
        if self.rate_per_s:
            device = result.device_id or result.events[0].device_id
            limited = self._limited.get(key) if key is not None else None
            if limited is None:
                sent = min(e.ts for e in result.events).timestamp()
                limited = not self._take(device, arrived, sent)
                if key is not None:
                    self._limited[key] = limited
            if limited:
                return Decoded.refuse(
                    "rate_limited",
                    f"device {device!r} above {self.rate_per_s:g} messages/s",
                    device,
                )
        return result

    def _take(self, device: str, now: float, sent: float | None = None) -> bool:
        """One token of ``device``'s bucket at arrival ``now`` [Unix s] of a
        message the device stamped ``sent`` [Unix s], if it has one."""
        dev = now if sent is None else min(max(sent, now - self.catch_up_s), now)
        b = self._buckets.get(device)
        if b is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._buckets.clear()
            b = self._buckets[device] = _Bucket(self.burst, now, dev)
        else:
            moved = max(now - b.at, dev - b.device_at, 0.0)
            b.tokens = min(self.burst, b.tokens + moved * self.rate_per_s)
            b.at = max(b.at, now)
            b.device_at = max(b.device_at, dev)
        if b.tokens < 1.0:
            return False
        b.tokens -= 1.0
        return True
