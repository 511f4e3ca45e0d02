"""Each site on its own calendar: which rows and events are a site's, and the
calendar its days are computed in (its time zone, working hours and days,
closed days and the public holidays of its country, from the building file;
the settings where the file says nothing).

``occupancy analyze`` computes partitions of one site × one chunk of its
local days (:mod:`analytics.pipeline`). With one site in the database nothing
is scoped (the reads and deletes of before). With several, a partition reads
only the events and sightings of its site's spaces and zones and replaces only
its site's rows; the *home* site (setting ``site`` when it is one of them,
else the first) also takes the ids that belong to no site (events of unknown
spaces: its data-quality rows). Pure: frames in, records out.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.calendar import Calendar
from occupancy.settings import Settings
from occupancy.site_calendar import DAYS, parse_working_hours

logger = logging.getLogger(__name__)

__all__ = [
    "SitePlan",
    "SiteScope",
    "public_holidays",
    "site_calendar",
    "site_plans",
    "years_of",
]


@dataclass(frozen=True)
class SiteScope:
    """The ids whose rows are the site's: ``own`` (its spaces, zones, floors,
    buildings, departments and itself); ``home``: every id but ``others``
    (the other sites' ids), so also ids of no site."""

    site_id: str
    own: tuple[str, ...]
    others: tuple[str, ...]
    home: bool


@dataclass(frozen=True)
class SitePlan:
    """One site of a run: its calendar, its metadata, and ``scope`` (None: the
    only site, nothing to scope)."""

    site_id: str
    cal: Calendar
    spaces: pd.DataFrame
    zones: pd.DataFrame
    #: Its space and zone ids: events are read with the space as a code into it.
    known: tuple[str, ...]
    scope: SiteScope | None


def _given(value: Any) -> bool:
    """A value the building file gave (NULL comes back as None or NaN)."""
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array: given
        return True


def _listed(value: object) -> list[object]:
    """A list-valued column (text[], date[]) as a list; a lone value as one."""
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return list(value)
    return [value]


def site_calendar(
    settings: Settings, row: Mapping[Hashable, object], years: Iterable[int]
) -> Calendar:
    """The calendar of one ``sites`` row (timezone, country, working_hours,
    working_days, holidays): the row's values, the settings' where the row
    has none; closed days plus the public holidays of ``country`` in
    ``years``."""
    years = list(years)
    base = Calendar.from_settings(settings, timezone=str(row["timezone"]))
    start, end = base.work_start, base.work_end
    if _given(row.get("working_hours")):
        start, end = parse_working_hours(str(row["working_hours"]))
    weekdays = base.working_weekdays
    if _given(row.get("working_days")):
        weekdays = tuple(
            sorted(DAYS.index(str(d)) for d in _listed(row["working_days"]))
        )
    closed = set(base.holidays)
    if _given(row.get("holidays")):
        closed = {pd.Timestamp(str(d)).date() for d in _listed(row["holidays"])}
    if _given(row.get("country")):
        try:
            closed |= public_holidays(str(row["country"]), tuple(years))
        except NotImplementedError:
            raise ValueError(
                f"site {row.get('site_id')}: country {row['country']!r} has no"
                " public holidays known (building file site.country)"
            ) from None
    return Calendar(
        timezone=base.timezone,
        work_start=start,
        work_end=end,
        working_weekdays=weekdays,
        holidays=tuple(sorted(closed)),
        bucket_s=base.bucket_s,
    )


@functools.lru_cache(maxsize=64)
def public_holidays(country: str, years: tuple[int, ...]) -> frozenset[dt.date]:
    """The public holidays of ISO ``country`` in ``years`` (the ``holidays``
    package; NotImplementedError for a country it does not know). Cached:
    readers ask for the same ones on every callback."""
    import holidays as holidays_lib

    return frozenset(holidays_lib.country_holidays(country, years=list(years)))


def _own_ids(site_id: str, spaces: pd.DataFrame, zones: pd.DataFrame) -> set[str]:
    ids = {site_id} | set(spaces["space_id"].astype(str))
    for col in ("zone_id", "floor_id", "building_id", "department_id"):
        ids |= set(zones[col].dropna().astype(str))
    return ids


def site_plans(
    sites: pd.DataFrame,
    spaces: pd.DataFrame,
    zones: pd.DataFrame,
    settings: Settings,
    years: Iterable[int],
) -> list[SitePlan]:
    """One plan per site of ``sites`` that has zones (and the home site), in
    site order; with no site at all, setting ``site`` in setting
    ``timezone``, unscoped."""
    years = list(years)
    home = str(settings.site)
    rows = {str(r["site_id"]): r for r in sites.to_dict("records")}
    if not rows:
        row: dict[Hashable, object] = {"timezone": str(settings.timezone)}
        known = _known(spaces, zones)
        return [
            SitePlan(
                home, site_calendar(settings, row, years), spaces, zones, known, None
            )
        ]
    with_zones = set(zones["site_id"].astype(str))
    ids = sorted(s for s in rows if s in with_zones or s == home)
    if home not in ids:
        home = ids[0] if ids else next(iter(sorted(rows)))
        ids = ids or [home]
    parts = {
        s: (spaces[spaces["site_id"].astype(str) == s],
            zones[zones["site_id"].astype(str) == s])
        for s in ids
    }  # fmt: skip
    owned = {s: _own_ids(s, *parts[s]) for s in ids}
    plans = []
    for s in ids:
        sp, zo = parts[s]
        cal = site_calendar(settings, rows[s], years)
        scope = None
        if len(ids) > 1:
            others = set().union(*(owned[o] for o in ids if o != s)) - owned[s]
            scope = SiteScope(
                s, tuple(sorted(owned[s])), tuple(sorted(others)), s == home
            )
        plans.append(
            SitePlan(s, cal, sp.reset_index(drop=True), zo.reset_index(drop=True),
                     _known(sp, zo), scope)
        )  # fmt: skip
    return plans


def _known(spaces: pd.DataFrame, zones: pd.DataFrame) -> tuple[str, ...]:
    known = set(spaces["space_id"].astype(str)) | set(zones["zone_id"].astype(str))
    return tuple(sorted(known))


def years_of(days: Iterable[dt.date]) -> range:
    """The years spanned by ``days`` (this year when there are none)."""
    ys = [d.year for d in days]
    if not ys:
        y = dt.date.today().year
        return range(y, y + 1)
    return range(min(ys), max(ys) + 1)
