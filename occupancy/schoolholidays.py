"""Dutch school holidays (schoolvakanties) by region, as a rule: the weeks
the Ministry of Education's multi-year schedule gives in most years. Used by
the simulator (attendance dips while children are off school) and by the
forecast (a regressor known in advance). Regions: ``north``, ``middle``,
``south``; ``none`` gives no days.

The rule (ISO weeks, Monday to Sunday of the weeks named):

| holiday | north | middle | south |
|---|---|---|---|
| spring (voorjaar) | week 8 | week 8 | week 9 |
| May (mei) | week 18 | week 18 | week 18 |
| summer (zomer), 6 weeks from | week 28 | week 29 | week 30 |
| autumn (herfst) | week 43 | week 43 | week 42 |
| Christmas (kerst) | the two weeks from the Monday on or before 24 Dec | same | same |

The real schedule shifts the summer start by region each year; this rule is
close enough for planning and reproducible."""

from __future__ import annotations

import datetime as dt
import logging

logger = logging.getLogger(__name__)

__all__ = ["REGIONS", "school_holidays"]

REGIONS = ("none", "north", "middle", "south")

_WEEKS: dict[str, dict[str, tuple[int, int]]] = {
    # holiday -> (first ISO week, number of weeks)
    "north": {"spring": (8, 1), "may": (18, 1), "summer": (28, 6), "autumn": (43, 1)},
    "middle": {"spring": (8, 1), "may": (18, 1), "summer": (29, 6), "autumn": (43, 1)},
    "south": {"spring": (9, 1), "may": (18, 1), "summer": (30, 6), "autumn": (42, 1)},
}


def _week_days(year: int, week: int, weeks: int) -> set[dt.date]:
    monday = dt.date.fromisocalendar(year, week, 1)
    return {monday + dt.timedelta(days=i) for i in range(7 * weeks)}


def school_holidays(region: str, first: dt.date, last: dt.date) -> set[dt.date]:
    """School holiday days of ``region`` between ``first`` and ``last``
    (both included)."""
    if region not in REGIONS:
        raise ValueError(f"school holiday region {region!r}: use {', '.join(REGIONS)}")
    if region == "none" or last < first:
        return set()
    out: set[dt.date] = set()
    for year in range(first.year - 1, last.year + 1):
        for week, n in _WEEKS[region].values():
            out |= _week_days(year, week, n)
        xmas = dt.date(year, 12, 24)
        monday = xmas - dt.timedelta(days=xmas.weekday())
        out |= {monday + dt.timedelta(days=i) for i in range(14)}
    return {d for d in out if first <= d <= last}
