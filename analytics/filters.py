"""The one filter type: what a report, a figure or a dashboard view covers.

Shared by the analytics readers (:mod:`analytics.api`), ``occupancy export`` and
the dashboard (whose URL query string is parsed into it, ``dashboard.filters``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

__all__ = ["Filters"]


@dataclass(frozen=True)
class Filters:
    """A place, a department, a local-date range and the hours. ``None`` =
    everything.

    ``start`` and ``end`` are local dates, both included (the readers take their
    range as arguments; a view carries it here). ``working_hours_only``
    (default True): only the site's working hours and days (holidays excluded);
    False: every hour, so hour-of-week profiles show evenings and weekends. It
    applies to the utilization report and helper, the hour-of-week, day-of-week
    and trend profiles; sessions, rooms, co-location and devices always cover
    working hours (docs/analytics.md)."""

    site: str | None = None
    building: str | None = None
    floor: str | None = None
    zone: str | None = None
    department: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    working_hours_only: bool = True

    @property
    def days(self) -> int:
        """Number of days in the range (both ends included)."""
        if self.start is None or self.end is None:
            return 0
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The same filters over the period of equal length just before."""
        if self.start is None or self.end is None:
            return self
        n = dt.timedelta(days=self.days)
        return replace(self, start=self.start - n, end=self.end - n)

    def utc_range(self, tz: str) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as timezone-aware UTC datetimes for local midnights."""
        if self.start is None or self.end is None:
            raise ValueError("filters have no date range")
        zone = ZoneInfo(tz)
        lo = dt.datetime.combine(self.start, dt.time(0), zone)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(0), zone)
        return lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)
