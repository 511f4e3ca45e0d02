"""Who is in the office on which day, and when: attendance, arrival and
departure, desk choice (hot desking), lunch and breaks. Everything is computed
on arrays of person-days; times are seconds since local midnight [s] until
:func:`to_intervals` turns them into UTC instants."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from occupancy.building import Site

from .effects import attendance_factor, join_day
from .scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = ["Calendar", "DayPlan", "SiteIndex", "make_calendar", "plan_days"]


def hm(text: str) -> float:
    """``HH:MM`` → seconds since midnight [s]."""
    t = dt.time.fromisoformat(text)
    return float(t.hour * 3600 + t.minute * 60)


@dataclass(frozen=True)
class Calendar:
    """The simulated days. ``midnight_utc`` [s since epoch] is local midnight
    of each day expressed in UTC (offset taken at noon, so DST nights are fine
    for daytime)."""

    dates: tuple[dt.date, ...]
    midnight_utc: np.ndarray  # int64 [s], one per date
    open_: np.ndarray  # bool, the site is open that day


def make_calendar(site: Site, sc: Scenario, start: dt.date, days: int) -> Calendar:
    tz = site.tz
    dates = tuple(start + dt.timedelta(days=i) for i in range(days))
    closed = sc.closed(start, days)
    mid = []
    for d in dates:
        noon = dt.datetime.combine(d, dt.time(12), tz)
        off = noon.utcoffset() or dt.timedelta(0)
        epoch = dt.datetime.combine(d, dt.time(0), dt.UTC).timestamp()
        mid.append(int(epoch - off.total_seconds()))
    open_ = np.array(
        [d.weekday() in sc.working_days and d not in closed for d in dates]
    )
    return Calendar(dates, np.array(mid, dtype=np.int64), open_)


@dataclass(frozen=True)
class SiteIndex:
    """Integer views of the building used by the vectorized core."""

    zone_ids: list[str]
    zone_floor: list[str]
    desk_ids: list[str]
    desk_zone: np.ndarray  # zone index per desk
    zone_desks: list[np.ndarray]  # desk indices per zone
    neighbourhoods: np.ndarray  # zone indices with desks
    lunch_zone: int
    break_zone_by_floor: dict[str, int]
    overflow_zone: int


def index_site(site: Site, sc: Scenario) -> SiteIndex:
    zones = list(site.zones())
    zone_ids = [z.id for z in zones]
    zpos = {z: i for i, z in enumerate(zone_ids)}
    desks = list(site.desks())
    desk_zone = np.array([zpos[d.zone_id] for d in desks], dtype=np.int64)
    zone_desks = [np.flatnonzero(desk_zone == i) for i in range(len(zones))]
    neigh = np.array([i for i, z in enumerate(zones) if z.desks], dtype=np.int64)
    shared = [z for z in zones if z.kind == "shared"]
    if sc.lunch_zone is not None:
        if sc.lunch_zone not in zpos:
            raise ValueError(f"lunch_zone: unknown zone {sc.lunch_zone!r}")
        lunch = zpos[sc.lunch_zone]
    else:
        cafes = [z for z in shared if "caf" in z.id.lower() or "caf" in z.name.lower()]
        pick = cafes[0] if cafes else (shared[0] if shared else zones[0])
        lunch = zpos[pick.id]
    by_floor = {z.floor_id: zpos[z.id] for z in reversed(shared)}
    others = [zpos[z.id] for z in shared if zpos[z.id] != lunch]
    return SiteIndex(
        zone_ids,
        [z.floor_id for z in zones],
        [d.id for d in desks],
        desk_zone,
        zone_desks,
        neigh,
        lunch,
        by_floor,
        others[0] if others else lunch,
    )


@dataclass
class DayPlan:
    """One row per person-day in the office (arrays of equal length)."""

    person: np.ndarray  # person index
    day: np.ndarray  # day index
    arr: np.ndarray  # arrival [s since local midnight]
    dep: np.ndarray  # departure [s]
    desk: np.ndarray  # desk index, -1 = no free desk (works in the overflow zone)
    zone: np.ndarray  # zone index of the desk or overflow zone
    lunch_start: np.ndarray  # [s], NaN = no lunch in the café
    lunch_end: np.ndarray


def plan_days(
    people: pd.DataFrame,
    cal: Calendar,
    six: SiteIndex,
    sc: Scenario,
    rng: np.random.Generator,
) -> DayPlan:
    """Attendance, arrival/departure, desk and lunch for every person-day."""
    n_people, n_days = len(people), len(cal.dates)
    weekday = np.array([d.weekday() for d in cal.dates])
    w = np.zeros(7)
    w[list(sc.working_days)] = 1.0
    for wd in range(5):
        if wd in sc.working_days:
            w[wd] = sc.weekday_weights[wd]
    open_wd = list(sc.working_days)
    w[open_wd] = w[open_wd] / w[open_wd].mean()
    odpw = people["office_days_per_week"].to_numpy(float)
    n_work = max(len(open_wd), 1)
    p = np.clip(odpw[:, None] / n_work * w[weekday][None, :], 0.0, 1.0)
    p[:, ~cal.open_] = 0.0
    # Demand effects (all 1 / day 0 by default): policy, school, winter, events.
    p = np.clip(p * attendance_factor(cal.dates, sc)[None, :], 0.0, 1.0)
    joined = join_day(n_people, n_days, sc)
    p[np.arange(n_days)[None, :] < joined[:, None]] = 0.0
    week = np.array([(d - cal.dates[0]).days // 7 for d in cal.dates])
    vacation = rng.random((n_people, week.max() + 1)) < sc.vacation_share
    present = (rng.random((n_people, n_days)) < p) & ~vacation[:, week]
    person, day = np.nonzero(present)
    n = len(person)

    lo, hi = (hm(t) for t in sc.arrival_window)
    arr = np.clip(rng.normal(hm(sc.arrival), sc.arrival_sd_min * 60, n), lo, hi)
    stay = np.clip(
        rng.normal(sc.workday_h * 3600, sc.workday_sd_min * 60, n), 3 * 3600, 11 * 3600
    )
    dep = np.minimum(arr + stay, hm("20:30"))
    arr, dep = np.round(arr), np.round(dep)

    desk, zone = _hot_desks(people, person, day, n_days, six, sc, rng)

    has_lunch = rng.random(n) < sc.lunch_share
    ls = np.round(
        np.clip(
            rng.normal(hm(sc.lunch), sc.lunch_sd_min * 60, n), hm("11:30"), hm("14:00")
        )
    )
    le = ls + np.round(rng.uniform(*sc.lunch_min, n) * 60)
    has_lunch &= (ls > arr + 900) & (le < dep - 900)
    return DayPlan(
        person,
        day,
        arr,
        dep,
        desk,
        zone,
        np.where(has_lunch, ls, np.nan),
        np.where(has_lunch, le, np.nan),
    )


def _hot_desks(
    people: pd.DataFrame,
    person: np.ndarray,
    day: np.ndarray,
    n_days: int,
    six: SiteIndex,
    sc: Scenario,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Hot desking: a zone per person-day, then distinct desks within (day,
    zone); (desk or -1, zone: the overflow zone when no desk was free)."""
    n = len(person)
    zone_of_home = {z: i for i, z in enumerate(six.zone_ids)}
    home = people["home_zone_id"].map(zone_of_home).to_numpy(np.int64)[person]
    away = rng.random(n) >= sc.home_desk_share
    alt = six.neighbourhoods[rng.integers(0, len(six.neighbourhoods), n)]
    zone = np.where(away, alt, home)
    order = np.lexsort((rng.random(n), zone, day))
    rank = np.empty(n, dtype=np.int64)
    key = day[order] * 10_000 + zone[order]
    first = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    run = np.repeat(first, np.diff(np.r_[first, n]))
    rank[order] = np.arange(n) - run
    max_desks = max(len(d) for d in six.zone_desks)
    n_zones = len(six.zone_ids)
    keys = rng.random((n_days, n_zones, max_desks))
    for z, dz in enumerate(six.zone_desks):
        keys[:, z, len(dz) :] = np.inf
    perm = np.argsort(keys, axis=2)
    n_desks_zone = np.array([len(d) for d in six.zone_desks])
    ok = rank < n_desks_zone[zone]
    slot = perm[day, zone, np.minimum(rank, max_desks - 1)]
    padded = np.full((n_zones, max_desks), -1, dtype=np.int64)
    for z, dz in enumerate(six.zone_desks):
        padded[z, : len(dz)] = dz
    desk = np.where(ok, padded[zone, slot], -1)
    zone = np.where(ok, zone, six.overflow_zone)
    return desk, zone
