"""Ground truth in the shape of the rollups the plan reads: hourly level
aggregates from true head counts (the simulator's ``space_counts``), for the
forecast benchmark and tests. Pure; the truth tables come from the caller."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["level_hourly_from_counts"]

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
    sc = space_counts
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
    per = per.groupby(["space_id", "h"], sort=False)["ps"].sum().reset_index()
    sp = spaces.set_index("space_id")
    hs = per["h"].to_numpy()
    all_h = np.arange(hs.min(), hs.max() + 1) if len(hs) else hs
    local = pd.to_datetime(all_h * 3600, unit="s", utc=True).tz_convert(timezone)
    keep = (
        (local.hour >= work_hours[0])
        & (local.hour < work_hours[1])
        & np.isin(local.weekday, list(weekdays))
    )
    parts = []
    for level, col in _LEVEL_COLS.items():
        members = sp[col].dropna()
        if level == "department":
            members = sp.loc[sp["kind"] == "desk", col].dropna()
        cap = sp.loc[members.index, "capacity"].groupby(members).sum()
        x = per[per["space_id"].isin(members.index)]
        x = x.assign(level_id=members.reindex(x["space_id"]).to_numpy())
        ppl = x.groupby(["level_id", "h"])["ps"].sum()
        grid = pd.MultiIndex.from_product(
            [cap.index, all_h[keep]], names=["level_id", "h"]
        )
        frame = ppl.reindex(grid, fill_value=0.0).rename("people_s").reset_index()
        frame["level"] = level
        frame["capacity_s"] = frame["level_id"].map(cap).astype(float) * 3600
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    t = pd.to_datetime(out["h"] * 3600, unit="s", utc=True).dt.tz_convert(timezone)
    out["day"] = t.dt.date
    out["hour"] = t.dt.hour.astype(np.int64)
    out["n"] = 3600 // bucket_s
    cols = ["level", "level_id", "day", "hour", "n", "capacity_s", "people_s"]
    return out[cols].sort_values(cols[:4]).reset_index(drop=True)
