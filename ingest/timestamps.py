"""Device timestamps: ISO 8601 (any fraction, any zone or none), epoch s/ms.

Pure functions. A local time without zone is read in the site's time zone.
A device clock further than ``max_clock_skew_s`` from arrival is not trusted.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from zoneinfo import ZoneInfo

from occupancy.events import Rejection, TsSource

logger = logging.getLogger(__name__)

__all__ = ["check_skew", "parse_timestamp", "resolve_ts"]

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)

_EPOCH = re.compile(r"\d{1,16}(\.\d{1,9})?")

#: Epoch numbers at or above this are milliseconds [ms], below seconds [s].
EPOCH_MS_THRESHOLD = 1e12
_MIN_YEAR, _MAX_YEAR = 1970, 2200


def parse_timestamp(value: object, tz: ZoneInfo) -> dt.datetime | Rejection:
    """``value`` as an aware UTC datetime, or a ``bad_timestamp`` rejection.

    Strings: ISO 8601 with ``T`` or space, optional seconds, any number of
    fraction digits (truncated to microseconds), ``Z``/``±HH:MM``/``±HHMM`` or no
    zone (local time in ``tz``). Numbers: epoch seconds, or milliseconds when
    ``>= 1e12``. Digit strings are read as numbers.
    """
    if isinstance(value, bool):
        return Rejection("bad_timestamp", f"ts: boolean {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return Rejection(
            "bad_timestamp", f"ts: unsupported type {type(value).__name__}"
        )
    text = value.strip()
    if text[:1].isdigit() and _EPOCH.fullmatch(text):
        return _from_epoch(float(text))
    fast = _fromisoformat(text, tz)
    if fast is not None:
        return fast
    m = _ISO.match(text)
    if not m:
        return Rejection("bad_timestamp", f"ts: not ISO 8601 or epoch: {text[:40]!r}")
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    frac = (m.group(7) or "")[:6].ljust(6, "0")
    zone = m.group(8)
    try:
        if zone is None:
            tzinfo: dt.tzinfo = tz
        elif zone in ("Z", "z"):
            tzinfo = dt.UTC
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            hh, mm = int(digits[:2]), int(digits[2:4] or 0)
            if hh > 23 or mm > 59:
                raise ValueError("offset out of range")
            tzinfo = dt.timezone(sign * dt.timedelta(hours=hh, minutes=mm))
        if second == 60:  # leap second: clamp
            second = 59
        local = dt.datetime(
            year, month, day, hour, minute, second, int(frac), tzinfo=tzinfo
        )
        if zone is None:
            # Non-existent local times (DST gap) resolve like zoneinfo does
            # (fold=0); ambiguous ones take the first occurrence.
            local = local.replace(fold=0)
        return local.astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        return Rejection("bad_timestamp", f"ts: {text[:40]!r}: {exc}")


def _fromisoformat(text: str, tz: ZoneInfo) -> dt.datetime | None:
    """The C parser for the common shapes (full date-time, at most 6 fraction
    digits); ``None`` sends anything else to the regex path."""
    if len(text) < 19 or text[10] not in "Tt " or text[4] != "-":
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
    return parsed.astimezone(dt.UTC)


def _from_epoch(number: float) -> dt.datetime | Rejection:
    if not math.isfinite(number) or number < 0:
        return Rejection("bad_timestamp", f"ts: epoch {number!r} out of range")
    seconds = number / 1000.0 if number >= EPOCH_MS_THRESHOLD else number
    try:
        ts = dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (ValueError, OverflowError, OSError):
        return Rejection("bad_timestamp", f"ts: epoch {number!r} out of range")
    if not _MIN_YEAR <= ts.year <= _MAX_YEAR:
        return Rejection("bad_timestamp", f"ts: epoch {number!r} out of range")
    return ts


def check_skew(
    ts: dt.datetime, received_at: dt.datetime, max_clock_skew_s: float
) -> tuple[dt.datetime, TsSource]:
    """Judge the device time against the arrival time.

    - Within ``max_clock_skew_s`` [s]: trusted (``device``).
    - Ahead of arrival by more: the clock is wrong (nothing arrives before it
      happens), so the arrival time is used, flagged ``corrected``.
    - Behind arrival by more: kept but flagged ``late``. A message published
      late (buffered by a gateway, a broker backlog, a backfill) carries its
      true time; replacing it by the arrival time would misplace the event and
      break idempotency (a redelivered duplicate would get another ``ts``).
      Analytics recompute the buckets late events touch.

    ``max_clock_skew_s <= 0`` trusts the device (replays of recorded data)."""
    if max_clock_skew_s <= 0:
        return ts, TsSource.DEVICE
    offset = (ts - received_at).total_seconds()
    if offset > max_clock_skew_s:
        return received_at, TsSource.CORRECTED
    if offset < -max_clock_skew_s:
        return ts, TsSource.LATE
    return ts, TsSource.DEVICE


def resolve_ts(
    value: object,
    received_at: dt.datetime,
    tz: ZoneInfo,
    max_clock_skew_s: float,
) -> tuple[dt.datetime, TsSource] | Rejection:
    """The event time for a payload timestamp ``value`` (``None``: arrival)."""
    if value is None:
        return received_at, TsSource.ARRIVAL
    parsed = parse_timestamp(value, tz)
    if isinstance(parsed, Rejection):
        return parsed
    return check_skew(parsed, received_at, max_clock_skew_s)
