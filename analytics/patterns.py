"""Patterns: hour-of-week profiles, day of week and trend over weeks.

From ``analytics_level_buckets`` rows: per (level, group, local week, weekday,
hour) the mean head count and utilization of that hour, then over the weeks in
range its mean, median, 90th percentile and maximum.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analytics.utilization import pct

logger = logging.getLogger(__name__)

__all__ = [
    "day_of_week",
    "hour_of_week",
    "hour_of_week_from_hourly",
    "level_hourly",
    "profile_over_weeks",
    "space_hour_of_week",
    "weekly_trend",
    "with_local_time",
]


def with_local_time(lb: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Add weekday (0 = Monday), hour and week (Monday of the local week)."""
    local = pd.to_datetime(lb["bucket_start"], utc=True).dt.tz_convert(timezone)
    day = pd.to_datetime(lb["day"])
    return lb.assign(
        weekday=local.dt.weekday.to_numpy(),
        hour=local.dt.hour.to_numpy(),
        week=(day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date.to_numpy(),
    )


def _hourly(lb: pd.DataFrame, bucket_s: int) -> pd.DataFrame:
    keys = ["level", "level_id", "week", "day", "weekday", "hour"]
    g = lb.groupby(keys, sort=False)
    h = g.agg(
        people_s=("people_s", "sum"),
        capacity_s=("capacity_s", "sum"),
        n=("bucket_start", "size"),
        peak=("peak_people", "max"),
    ).reset_index()
    h["people"] = h["people_s"] / (h["n"] * float(bucket_s))
    h["utilization_pct"] = pct(h["people_s"], h["capacity_s"])
    return h


def hour_of_week(lb: pd.DataFrame, timezone: str, bucket_s: int) -> pd.DataFrame:
    """Per (level, level_id, weekday, hour): weeks, people_mean, people_median,
    people_p90, people_max, utilization_pct (mean), utilization_p90_pct,
    utilization_max_pct, peak_people."""
    return profile_over_weeks(_hourly(with_local_time(lb, timezone), bucket_s))


#: analytics_level_hourly columns: the keys, then sums and extremes of the
#: level buckets of each local hour (see :func:`level_hourly`).
LEVEL_HOURLY_COLUMNS = (
    "day",
    "level",
    "level_id",
    "hour",
    "in_working_hours",
    "buckets",
    "spaces",
    "capacity",
    "desks_measured",
    "capacity_s",
    "measured_s",
    "occupied_s",
    "people_s",
    "peak_people",
    "peak_desks_occupied",
    "min_vacant",
)


def level_hourly(lb: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """``analytics_level_buckets`` rows summed per (day, level, level_id,
    local hour 0-23, in_working_hours): ``buckets`` (count), ``spaces``,
    ``capacity``, ``desks_measured``, ``peak_people``,
    ``peak_desks_occupied`` (maxima), ``capacity_s`` [seat·s],
    ``measured_s``, ``occupied_s`` [s], ``people_s`` [people·s] (sums),
    ``min_vacant`` (fewest desks vacant in one bucket: min of desks_measured −
    peak_desks_occupied). Sums and extremes only, so any coarser grouping of
    these rows (a day, an hour of the week, a range) equals the same grouping
    of the buckets: what the rollup readers aggregate instead of every bucket.
    The repeated hour of a 25-hour day is one row (its 8 buckets); an hour
    partly in working hours has a row per part."""
    if len(lb) == 0:
        return pd.DataFrame(columns=list(LEVEL_HOURLY_COLUMNS))
    # Local hours of the distinct bucket starts only (few per group count).
    codes, uniques = pd.factorize(pd.to_datetime(lb["bucket_start"], utc=True))
    hours = pd.DatetimeIndex(uniques).tz_convert(timezone).hour.to_numpy()
    x = lb.assign(
        hour=hours[codes].astype(np.int16),
        min_vacant=lb["desks_measured"] - lb["peak_desks_occupied"],
    )
    keys = ["day", "level", "level_id", "hour", "in_working_hours"]
    out = (
        x.groupby(keys, sort=True)
        .agg(
            buckets=("bucket_start", "size"),
            spaces=("spaces", "max"),
            capacity=("capacity", "max"),
            desks_measured=("desks_measured", "max"),
            capacity_s=("capacity_s", "sum"),
            measured_s=("measured_s", "sum"),
            occupied_s=("occupied_s", "sum"),
            people_s=("people_s", "sum"),
            peak_people=("peak_people", "max"),
            peak_desks_occupied=("peak_desks_occupied", "max"),
            min_vacant=("min_vacant", "min"),
        )
        .reset_index()
    )
    return out[list(LEVEL_HOURLY_COLUMNS)]


def hour_of_week_from_hourly(h: pd.DataFrame, bucket_s: int) -> pd.DataFrame:
    """:func:`hour_of_week` from level buckets already summed per (level,
    level_id, local day, local hour): columns day, hour, ``n`` buckets,
    people_s [people·s], capacity_s [seat·s], peak_people (as
    ``analytics.store.read_level_agg`` returns them with a timezone). The
    same result as from the bucket rows: each hour's sums are the same."""
    day = pd.to_datetime(h["day"])
    hourly = pd.DataFrame(
        {
            "level": h["level"].to_numpy(),
            "level_id": h["level_id"].to_numpy(),
            "week": (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date,
            "weekday": day.dt.weekday.to_numpy(),
            # int32 as pandas' .dt.hour gives for the bucket rows.
            "hour": h["hour"].to_numpy(dtype=np.int32),
            "people": (
                h["people_s"].astype(float) / (h["n"] * float(bucket_s))
            ).to_numpy(),
            "utilization_pct": pct(h["people_s"], h["capacity_s"]).to_numpy(),
            "peak": h["peak_people"].to_numpy(),
        }
    )
    return profile_over_weeks(hourly)


def space_hour_of_week(hourly: pd.DataFrame, spaces: pd.DataFrame) -> pd.DataFrame:
    """Hour-of-week profile of single spaces (level ``space``) from
    ``analytics_space_hourly`` rows (day, hour, space_id, measured_s,
    people_s, peak_people): per week the hour's mean head count is
    people_s ÷ measured_s (over the time with data) and its utilization
    100 × people_s ÷ (measured_s × capacity); then the same statistics over
    the weeks as :func:`hour_of_week`. ``spaces``: space_id, capacity."""
    day = pd.to_datetime(hourly["day"])
    cap = hourly["space_id"].map(spaces.set_index("space_id")["capacity"])
    measured = hourly["measured_s"].astype(float)
    people = hourly["people_s"].astype(float) / measured.where(measured > 0)
    h = pd.DataFrame(
        {
            "level": "space",
            "level_id": hourly["space_id"].to_numpy(),
            "week": (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date,
            "weekday": day.dt.weekday.to_numpy(),
            "hour": hourly["hour"].to_numpy(dtype=np.int64),
            "people": people.to_numpy(),
            "utilization_pct": (100.0 * people / cap.astype(float)).to_numpy(),
            "peak": hourly["peak_people"].astype(float).to_numpy(),
        }
    )
    return profile_over_weeks(h)


def profile_over_weeks(h: pd.DataFrame) -> pd.DataFrame:
    """Per (level, level_id, weekday, hour) over the weeks of ``h`` (one row
    per level, level_id, week, weekday, hour with people, utilization_pct,
    peak): weeks, people_mean/median/p90/max, utilization_pct (mean),
    utilization_p90_pct, utilization_max_pct, peak_people. Percentiles use
    linear interpolation."""
    keys = ["level", "level_id", "weekday", "hour"]
    g = h.groupby(keys)
    out = g.agg(
        weeks=("week", "nunique"),
        people_mean=("people", "mean"),
        people_median=("people", "median"),
        people_max=("people", "max"),
        utilization_pct=("utilization_pct", "mean"),
        utilization_max_pct=("utilization_pct", "max"),
        peak_people=("peak", "max"),
    )
    # Vectorized percentiles (linear interpolation, as np.quantile): the
    # people p90 is NaN when a week's value is (np.quantile propagates NaN),
    # the utilization p90 skips NaN (np.nanquantile).
    p90 = g[["people", "utilization_pct"]].quantile(0.9)
    has_nan = h["people"].isna().groupby([h[k] for k in keys]).any()
    out.insert(
        3, "people_p90", p90["people"].where(~has_nan.reindex(p90.index)).astype(float)
    )
    out.insert(6, "utilization_p90_pct", p90["utilization_pct"].astype(float))
    return out.reset_index().sort_values(keys).reset_index(drop=True)


def day_of_week(lb: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Per (level, level_id, weekday): utilization_pct, time_used_pct, mean daily peak."""
    x = with_local_time(lb, timezone)
    d = (
        x.groupby(["level", "level_id", "day", "weekday"])
        .agg(
            people_s=("people_s", "sum"),
            capacity_s=("capacity_s", "sum"),
            occupied_s=("occupied_s", "sum"),
            measured_s=("measured_s", "sum"),
            peak=("peak_people", "max"),
        )
        .reset_index()
    )
    g = d.groupby(["level", "level_id", "weekday"])
    out = g.agg(
        days=("day", "nunique"),
        people_s=("people_s", "sum"),
        capacity_s=("capacity_s", "sum"),
        occupied_s=("occupied_s", "sum"),
        measured_s=("measured_s", "sum"),
        avg_daily_peak=("peak", "mean"),
    ).reset_index()
    return _rates(out)


def weekly_trend(lb: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Per (level, level_id, week): utilization_pct, time_used_pct, peak_people."""
    x = with_local_time(lb, timezone)
    g = x.groupby(["level", "level_id", "week"])
    out = g.agg(
        people_s=("people_s", "sum"),
        capacity_s=("capacity_s", "sum"),
        occupied_s=("occupied_s", "sum"),
        measured_s=("measured_s", "sum"),
        peak_people=("peak_people", "max"),
    ).reset_index()
    return _rates(out)


def _rates(out: pd.DataFrame) -> pd.DataFrame:
    """utilization_pct and time_used_pct from the summed seconds, which are dropped."""
    out["utilization_pct"] = pct(out["people_s"], out["capacity_s"])
    out["time_used_pct"] = pct(out["occupied_s"], out["measured_s"])
    return out.drop(columns=["people_s", "capacity_s", "occupied_s", "measured_s"])
