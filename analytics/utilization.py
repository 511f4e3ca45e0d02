"""Per-space and per-level measures from presence intervals (docs/metrics.md).

Compute side (``analyze``): intervals → per-space buckets → per-space daily
rollup (the per-level bucket rollup and the simultaneous group peaks are in
:mod:`analytics.levels`, re-exported here). Read side: summaries over a date
range.
Everything is vectorized (numpy repeat / cumsum / searchsorted, groupby).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from analytics.buckets import attach_calendar as _attach_calendar
from analytics.buckets import ordinal_dates, split_buckets
from analytics.calendar import Calendar
from analytics.levels import GROUP_LEVELS, group_peaks, level_buckets, membership

logger = logging.getLogger(__name__)

__all__ = [
    "GROUP_LEVELS",
    "UseRules",
    "UseThresholds",
    "group_peaks",
    "level_buckets",
    "level_summary",
    "membership",
    "space_daily",
    "space_daily_hourly",
    "space_summary",
    "split_buckets",
    "target_band",
]


class UseRules(Protocol):
    """When a space counts as used [s]: occupied at least ``*_min_hour_s`` of
    an hour, ``*_min_day_s`` of a day; desks and collaboration spaces apart
    (:class:`analytics.pipeline.AnalyzeParams` is one)."""

    @property
    def desk_min_hour_s(self) -> float: ...
    @property
    def desk_min_day_s(self) -> float: ...
    @property
    def collab_min_hour_s(self) -> float: ...
    @property
    def collab_min_day_s(self) -> float: ...


@dataclass(frozen=True)
class UseThresholds:
    """The :class:`UseRules` alone [s]."""

    desk_min_hour_s: float
    desk_min_day_s: float
    collab_min_hour_s: float
    collab_min_day_s: float


def space_daily(
    iv: pd.DataFrame,
    stuck: pd.DataFrame,
    spaces: pd.DataFrame,
    grid: pd.DataFrame,
    cal: Calendar,
    *,
    use: UseRules,
) -> pd.DataFrame:
    """Per space (with data) and local day: the ``analytics_space_daily`` columns.

    ``iv``: clean intervals; ``stuck``: excluded stuck runs; ``spaces``:
    space_id, kind; ``grid``: every bucket of the days (available or not)."""
    return space_daily_hourly(iv, stuck, spaces, grid, cal, use=use)[0]


def space_daily_hourly(
    iv: pd.DataFrame,
    stuck: pd.DataFrame,
    spaces: pd.DataFrame,
    grid: pd.DataFrame,
    cal: Calendar,
    *,
    use: UseRules,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(:func:`space_daily`, per space and local hour with data, working
    hours or not: the ``analytics_space_hourly`` columns day, hour (local
    0-23; the repeated hour of a 25 h day sums both), space_id, measured_s
    [s], occupied_s [s], people_s [people*s], peak_people, in_working_hours
    (an hour only partly in working hours gives one row per part))."""
    bs = cal.bucket_s
    # Integer space codes while grouping; names restored at the end.
    names = pd.Index(
        np.sort(
            pd.unique(
                np.r_[iv["space_id"].to_numpy(), stuck["space_id"].to_numpy()]
            ).astype(str)
        )
    )
    iv = iv.assign(space_id=names.get_indexer(iv["space_id"].astype(str)))
    stuck = stuck.assign(space_id=names.get_indexer(stuck["space_id"].astype(str)))
    kind_of = pd.Series(names, index=names).map(spaces.set_index("space_id")["kind"])
    desk_code = kind_of.eq("desk").to_numpy()
    daily, hourly_all = _daily_and_hours(
        iv, stuck, grid, cal, desk_code, (use.desk_min_hour_s, use.collab_min_hour_s)
    )
    avail_per_day = grid[grid["available"]].groupby("day").size() * float(bs)
    daily["available_s"] = daily["day"].map(avail_per_day).fillna(0.0).astype(float)
    desk = desk_code[daily["space_id"].to_numpy(dtype=np.int64)]
    daily["space_id"] = names.to_numpy(dtype=object)[
        daily["space_id"].to_numpy(dtype=np.int64)
    ]
    thr_d = np.where(desk, use.desk_min_day_s, use.collab_min_day_s)
    daily["used_day"] = daily["occupied_s"].to_numpy() >= thr_d
    daily["sessions"] = daily["sessions"].astype(int)
    daily["hours_used"] = daily["hours_used"].astype(int)
    daily = daily[_DAILY_COLS].sort_values(["day", "space_id"]).reset_index(drop=True)
    return daily, _hours_frame(hourly_all, names)


def _daily_and_hours(
    iv: pd.DataFrame,
    stuck: pd.DataFrame,
    grid: pd.DataFrame,
    cal: Calendar,
    desk_code: np.ndarray,
    min_hour_s: tuple[float, float],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (space code, day) sums of the pieces of ``iv`` and ``stuck`` in
    available time, with sessions and hours used (``min_hour_s``: the desk
    and the collaboration space threshold), and per (space code, day, hour,
    available) the hourly sums."""
    bs = cal.bucket_s
    pieces = _attach_calendar(split_buckets(iv, bs), grid)
    occ = pieces["value"].to_numpy() > 0
    pieces["occ_s"] = np.where(occ, pieces["seconds"], 0.0)
    pieces["people_s"] = pieces["seconds"] * pieces["value"]
    total = pieces.groupby(["space_id", "day"], sort=False)["occ_s"].sum()
    av = pieces[pieces["available"]]
    g = av.groupby(["space_id", "day"], sort=False)
    daily = pd.DataFrame(
        {
            "measured_s": g["seconds"].sum(),
            "occupied_s": g["occ_s"].sum(),
            "people_s": g["people_s"].sum(),
            "peak_people": g["value"].max(),
        }
    )
    sess = _sessions_per_day(iv, av)
    gh = pieces.groupby(["space_id", "day", "hour", "available"], sort=False)
    hourly_all = pd.DataFrame(
        {
            "occ_s": gh["occ_s"].sum(),
            "measured_s": gh["seconds"].sum(),
            "people_s": gh["people_s"].sum(),
            "peak_people": gh["value"].max(),
        }
    ).reset_index()
    hourly = hourly_all[hourly_all["available"].to_numpy(dtype=bool)].copy()
    is_desk = desk_code[hourly["space_id"].to_numpy(dtype=np.int64)]
    thr_h = np.where(is_desk, *min_hour_s)
    hourly["used"] = hourly["occ_s"].to_numpy() >= thr_h
    hours_used = hourly.groupby(["space_id", "day"])["used"].sum()
    stuck_pieces = _attach_calendar(split_buckets(stuck, bs), grid)
    stuck_s = (
        stuck_pieces[stuck_pieces["available"]]
        .groupby(["space_id", "day"])["seconds"]
        .sum()
    )
    idx = daily.index.union(stuck_s.index).union(total.index)
    daily = daily.reindex(idx)
    daily["occupied_total_s"] = total.reindex(idx)
    daily["stuck_s"] = stuck_s.reindex(idx)
    daily["sessions"] = sess.reindex(idx)
    daily["hours_used"] = hours_used.reindex(idx)
    daily = daily.fillna(0.0).reset_index()
    daily.columns = ["space_id", "day", *daily.columns[2:]]
    daily["day"] = ordinal_dates(daily["day"].to_numpy())
    return daily, hourly_all


_DAILY_COLS = [
    "day",
    "space_id",
    "available_s",
    "measured_s",
    "occupied_s",
    "occupied_total_s",
    "people_s",
    "peak_people",
    "stuck_s",
    "sessions",
    "hours_used",
    "used_day",
]


def _sessions_per_day(iv: pd.DataFrame, av: pd.DataFrame) -> pd.Series:
    """Sessions per (space code, day): occupied runs of ``iv`` touching
    available time that day (``av``: the available bucket pieces)."""
    runs = iv.reset_index(drop=True)
    occ_runs = (runs["value"] > 0).to_numpy()
    space_arr = runs["space_id"].to_numpy()
    new = np.ones(len(runs), dtype=bool)
    if len(runs) > 1:
        new[1:] = ~(
            (space_arr[1:] == space_arr[:-1])
            & (runs["start"].to_numpy()[1:] == runs["end"].to_numpy()[:-1])
            & occ_runs[:-1]
            & occ_runs[1:]
        )
    session_id = np.cumsum(new)
    av_occ = av[av["occ_s"] > 0]
    sessions: pd.Series = (
        pd.DataFrame(
            {
                "space_id": av_occ["space_id"].to_numpy(),
                "day": av_occ["day"].to_numpy(),
                "sid": session_id[av_occ["row"].to_numpy()],
            }
        )
        .drop_duplicates()
        .groupby(["space_id", "day"])
        .size()
    )
    return sessions


def _hours_frame(hourly_all: pd.DataFrame, names: pd.Index) -> pd.DataFrame:
    """The ``analytics_space_hourly`` rows of the measured hours (space names
    restored from their codes)."""
    hourly = hourly_all[hourly_all["measured_s"] > 0]
    hours = pd.DataFrame(
        {
            "day": ordinal_dates(hourly["day"].to_numpy()),
            "hour": hourly["hour"].to_numpy(dtype=np.int64),
            "space_id": names.to_numpy(dtype=object)[
                hourly["space_id"].to_numpy(dtype=np.int64)
            ],
            "measured_s": hourly["measured_s"].to_numpy(dtype=float),
            "occupied_s": hourly["occ_s"].to_numpy(dtype=float),
            "people_s": hourly["people_s"].to_numpy(dtype=float),
            "peak_people": hourly["peak_people"].to_numpy(dtype=float),
            "in_working_hours": hourly["available"].to_numpy(dtype=bool),
        }
    )
    return hours.sort_values(["day", "space_id", "hour"]).reset_index(drop=True)


def target_band(utilization_pct: pd.Series, low: float, high: float) -> pd.Series:
    """``under`` (< low), ``optimal`` (low..high), ``over`` (> high) or NA."""
    u = utilization_pct.astype(float)
    band = np.where(u < low, "under", np.where(u > high, "over", "optimal"))
    out = pd.Series(band, index=u.index).astype(object)
    out[u.isna().to_numpy()] = None
    return out


def pct(num: pd.Series, den: pd.Series) -> pd.Series:
    """100 × num ÷ den [%]; NaN where den is 0 (no data is not 0 %)."""
    return (100.0 * num / den.where(den > 0)).astype(float)


def space_summary(
    daily: pd.DataFrame, spaces: pd.DataFrame, *, low: float, high: float
) -> pd.DataFrame:
    """Per space over the days in ``daily`` (analytics_space_daily rows)."""
    g = daily.groupby("space_id")
    s = g.agg(
        available_s=("available_s", "sum"),
        measured_s=("measured_s", "sum"),
        occupied_s=("occupied_s", "sum"),
        people_s=("people_s", "sum"),
        peak_people=("peak_people", "max"),
        sessions=("sessions", "sum"),
        hours_used=("hours_used", "sum"),
        days_used=("used_day", "sum"),
        days=("day", "nunique"),
        stuck_s=("stuck_s", "sum"),
    ).reset_index()
    s = s.merge(
        spaces[["space_id", "kind", "capacity", "zone_id", "floor_id"]],
        on="space_id",
        how="left",
    )
    s["time_used_pct"] = pct(s["occupied_s"], s["measured_s"])
    s["utilization_pct"] = pct(s["people_s"], s["measured_s"] * s["capacity"])
    s["utilization_occupied_pct"] = pct(s["people_s"], s["occupied_s"] * s["capacity"])
    s["avg_people"] = (
        s["people_s"] / s["measured_s"].where(s["measured_s"] > 0)
    ).astype(float)
    s["dwell_s"] = (s["occupied_s"] / s["sessions"].where(s["sessions"] > 0)).astype(
        float
    )
    s["no_data_pct"] = pct(s["available_s"] - s["measured_s"], s["available_s"])
    s["band"] = target_band(s["utilization_pct"], low, high)
    return s


def level_summary(
    lb: pd.DataFrame,
    cal: Calendar,
    *,
    available_buckets: int,
    low: float,
    high: float,
    free_desk_factor: float,
) -> pd.DataFrame:
    """Per (level, level_id) over the buckets in ``lb`` (analytics_level_buckets
    rows of one date range); ``available_buckets``: available buckets in the
    range (the denominator of average occupancy and of the no-data share)."""
    bs = float(cal.bucket_s)
    g = lb.groupby(["level", "level_id"])
    s = g.agg(
        spaces=("spaces", "max"),
        capacity=("capacity", "max"),
        capacity_s=("capacity_s", "sum"),
        measured_s=("measured_s", "sum"),
        occupied_s=("occupied_s", "sum"),
        people_s=("people_s", "sum"),
        peak_people=("peak_people", "max"),
        desks=("desks_measured", "max"),
        peak_desks_occupied=("peak_desks_occupied", "max"),
    ).reset_index()
    daily_peak = lb.groupby(["level", "level_id", "day"])["peak_people"].max()
    s["avg_daily_peak"] = (
        daily_peak.groupby(["level", "level_id"])
        .mean()
        .reindex(pd.MultiIndex.from_frame(s[["level", "level_id"]]))
        .to_numpy()
    )
    # Surplus: fewest desks vacant at once = min over buckets of (measured − peak).
    vac = lb["desks_measured"] - lb["peak_desks_occupied"]
    surplus = vac.groupby([lb["level"], lb["level_id"]]).min()
    s["surplus_desks"] = surplus.reindex(
        pd.MultiIndex.from_frame(s[["level", "level_id"]])
    ).to_numpy()
    s["time_used_pct"] = pct(s["occupied_s"], s["measured_s"])
    s["utilization_pct"] = pct(s["people_s"], s["capacity_s"])
    total_s = available_buckets * bs
    s["avg_people"] = s["people_s"] / total_s if total_s > 0 else np.nan
    s["peak_utilization_pct"] = pct(s["peak_people"], s["capacity"])
    s["avg_daily_peak_pct"] = pct(s["avg_daily_peak"], s["capacity"])
    s["free_desks_at_peak"] = s["desks"] * free_desk_factor - s["peak_desks_occupied"]
    s["no_data_pct"] = pct(
        s["spaces"] * total_s - s["measured_s"],
        s["spaces"] * pd.Series(total_s, index=s.index),
    )
    s["band"] = target_band(s["utilization_pct"], low, high)
    return s
