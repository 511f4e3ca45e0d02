"""Ground truth in the shape of the rollups the plan reads: hourly level
aggregates from true head counts (the simulator's ``space_counts``), for the
forecast benchmark and tests. Pure; the truth tables come from the caller."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "coloc_weekly_from_dept_zone",
    "level_hourly_from_counts",
    "level_hourly_peaks",
]

_LEVEL_COLS = {
    "building": "building_id",
    "floor": "floor_id",
    "zone": "zone_id",
    "department": "department_id",
}


def level_hourly_from_counts(
    space_counts: pd.DataFrame,
    spaces: pd.DataFrame,
    *,
    timezone: str,
    work_hours: tuple[int, int],
    weekdays: tuple[int, ...],
    bucket_s: int = 900,
) -> pd.DataFrame:
    """True ``space_counts`` (space_id, start, end, people; constant over
    [start, end)) → per (level, level_id, local day, local hour) of the working
    hours: n (buckets of the hour), capacity_s [seat·s], people_s [people·s],
    as ``read_level_agg(by_hour=True)`` gives them. ``spaces``: space_id, kind,
    capacity, zone_id, floor_id, building_id, department_id (department only
    for desks of its neighbourhoods, as the department level)."""
    per = _people_s_per_hour(space_counts)
    sp = spaces.set_index("space_id")
    hs = per["h"].to_numpy()
    all_h = np.arange(hs.min(), hs.max() + 1) if len(hs) else hs
    local = pd.to_datetime(all_h * 3600, unit="s", utc=True).tz_convert(timezone)
    keep = (
        (local.hour >= work_hours[0])
        & (local.hour < work_hours[1])
        & np.isin(local.weekday, list(weekdays))
    )
    parts = [
        _level_hours(per, sp, level, col, all_h[keep])
        for level, col in _LEVEL_COLS.items()
    ]
    out = pd.concat(parts, ignore_index=True)
    t = pd.to_datetime(out["h"] * 3600, unit="s", utc=True).dt.tz_convert(timezone)
    out["day"] = t.dt.date
    out["hour"] = t.dt.hour.astype(np.int64)
    out["n"] = 3600 // bucket_s
    cols = ["level", "level_id", "day", "hour", "n", "capacity_s", "people_s"]
    return out[cols].sort_values(cols[:4]).reset_index(drop=True)


def _people_s_per_hour(sc: pd.DataFrame) -> pd.DataFrame:
    """``space_counts`` split at the UTC hours: space_id, h (hours since the
    epoch), ps [people·s] per (space, hour)."""
    s = pd.to_datetime(sc["start"], utc=True).astype("int64").to_numpy() // 10**9
    e = pd.to_datetime(sc["end"], utc=True).astype("int64").to_numpy() // 10**9
    h0, h1 = s // 3600, (e - 1) // 3600
    n = (h1 - h0 + 1).astype(np.int64)
    idx = np.repeat(np.arange(len(sc)), n)
    hour = h0[idx] + (np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n))
    lo = np.maximum(s[idx], hour * 3600)
    hi = np.minimum(e[idx], (hour + 1) * 3600)
    ps = (hi - lo) * sc["people"].to_numpy(float)[idx]
    per = pd.DataFrame(
        {"space_id": sc["space_id"].to_numpy(object)[idx], "h": hour, "ps": ps}
    )
    return per.groupby(["space_id", "h"], sort=False)["ps"].sum().reset_index()


def _level_hours(
    per: pd.DataFrame, sp: pd.DataFrame, level: str, col: str, hours: np.ndarray
) -> pd.DataFrame:
    """One level's groups over ``hours`` (every group, every hour):
    level_id, h, people_s, level, capacity_s [seat·s]."""
    members = sp[col].dropna()
    if level == "department":
        members = sp.loc[sp["kind"] == "desk", col].dropna()
    cap = sp.loc[members.index, "capacity"].groupby(members).sum()
    x = per[per["space_id"].isin(members.index)]
    x = x.assign(level_id=members.reindex(x["space_id"]).to_numpy())
    ppl = x.groupby(["level_id", "h"])["ps"].sum()
    grid = pd.MultiIndex.from_product([cap.index, hours], names=["level_id", "h"])
    frame = ppl.reindex(grid, fill_value=0.0).rename("people_s").reset_index()
    frame["level"] = level
    frame["capacity_s"] = frame["level_id"].map(cap).astype(float) * 3600
    return frame


def coloc_weekly_from_dept_zone(
    dept_zone: pd.DataFrame, *, timezone: str, bucket_s: int = 900
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """True ``dept_zone`` (zone_id, department_id, start, end, people) →
    the weekly co-location counts of :mod:`analytics.intervention`: (pairs,
    zone, dept), week = the local Monday. A department is present in a
    bucket when one of its people is there at any time in it (as a sighting
    in the bucket makes it present); people_buckets sums the bucket's largest
    count."""
    s = pd.to_datetime(dept_zone["start"], utc=True).astype("int64").to_numpy() // 10**9
    e = pd.to_datetime(dept_zone["end"], utc=True).astype("int64").to_numpy() // 10**9
    b0, b1 = s // bucket_s, (e - 1) // bucket_s
    n = (b1 - b0 + 1).astype(np.int64)
    idx = np.repeat(np.arange(len(dept_zone)), n)
    bucket = b0[idx] + (np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n))
    p = pd.DataFrame(
        {
            "zone_id": dept_zone["zone_id"].to_numpy(object)[idx],
            "department_id": dept_zone["department_id"].to_numpy(object)[idx],
            "bucket": bucket,
            "people": dept_zone["people"].to_numpy(np.int64)[idx],
        }
    )
    p = p.groupby(["zone_id", "bucket", "department_id"])["people"].max().reset_index()
    ub = np.unique(p["bucket"].to_numpy())
    local = pd.to_datetime(ub * bucket_s, unit="s", utc=True).tz_convert(timezone)
    monday = (local.normalize() - pd.to_timedelta(local.weekday, unit="D")).date
    p["week"] = pd.Series(monday, index=ub).reindex(p["bucket"]).to_numpy()
    zone = (
        p.groupby(["week", "zone_id"]).agg(buckets=("bucket", "nunique")).reset_index()
    )
    dept = (
        p.groupby(["week", "zone_id", "department_id"])
        .agg(buckets=("bucket", "size"), people_buckets=("people", "sum"))
        .reset_index()
    )
    d = p[["week", "zone_id", "bucket", "department_id"]]
    j = d.merge(d, on=["week", "zone_id", "bucket"], suffixes=("_a", "_b"))
    j = j[j["department_id_a"] < j["department_id_b"]]
    pairs = (
        j.groupby(["week", "zone_id", "department_id_a", "department_id_b"])
        .size()
        .rename("buckets")
        .reset_index()
        .rename(
            columns={
                "department_id_a": "department_a",
                "department_id_b": "department_b",
            }
        )
    )
    return pairs, zone, dept


def level_hourly_peaks(
    space_counts: pd.DataFrame, spaces: pd.DataFrame, *, timezone: str
) -> pd.DataFrame:
    """The largest simultaneous true head count per (level, level_id, local
    day, hour), by a sweep over the start and end instants of the counts
    (hours without a change are left out: their peak is the count carried
    in). Columns: level, level_id, day, hour, peak_people."""
    sp = spaces.set_index("space_id")
    s = (
        pd.to_datetime(space_counts["start"], utc=True).astype("int64").to_numpy()
        // 10**9
    )
    e = (
        pd.to_datetime(space_counts["end"], utc=True).astype("int64").to_numpy()
        // 10**9
    )
    ppl = space_counts["people"].to_numpy(float)
    parts = []
    for level, col in _LEVEL_COLS.items():
        members = sp[col].dropna()
        if level == "department":
            members = sp.loc[sp["kind"] == "desk", col].dropna()
        grp = members.reindex(space_counts["space_id"]).to_numpy(object)
        ok = pd.notna(grp)
        ev = pd.DataFrame(
            {
                "level_id": np.r_[grp[ok], grp[ok]],
                "t": np.r_[s[ok], e[ok]],
                "d": np.r_[ppl[ok], -ppl[ok]],
            }
        ).sort_values(["level_id", "t", "d"], kind="stable")
        ev = ev.groupby(["level_id", "t"], sort=False)["d"].sum().reset_index()
        ev["total"] = ev.groupby("level_id")["d"].cumsum()
        ev["carry"] = ev.groupby("level_id")["total"].shift(1).fillna(0.0)
        ev["h"] = ev["t"] // 3600
        pk = ev.groupby(["level_id", "h"]).agg(a=("total", "max"), b=("carry", "first"))
        pk["peak_people"] = pk[["a", "b"]].max(axis=1)
        pk = pk.reset_index()
        pk["level"] = level
        parts.append(pk[["level", "level_id", "h", "peak_people"]])
    out = pd.concat(parts, ignore_index=True)
    t = pd.to_datetime(out["h"] * 3600, unit="s", utc=True).dt.tz_convert(timezone)
    out["day"] = t.dt.date
    out["hour"] = t.dt.hour.astype(np.int64)
    return out[["level", "level_id", "day", "hour", "peak_people"]]
