"""Per-space and per-level measures from presence intervals (docs/metrics.md).

Compute side (``analyze``): intervals → per-space buckets → per-space daily
rollup and per-level bucket rollup, with the *simultaneous* peak of each group
from a sweep over interval edges. Read side: summaries over a date range.
Everything is vectorized (numpy repeat / cumsum / searchsorted, groupby).
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from analytics.calendar import Calendar
from analytics.groupsum import group_row_sums

logger = logging.getLogger(__name__)

__all__ = [
    "GROUP_LEVELS",
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

#: Levels stored in ``analytics_level_buckets`` → column of the spaces frame.
GROUP_LEVELS = {
    "zone": "zone_id",
    "floor": "floor_id",
    "building": "building_id",
    "department": "department_id",
    "room": "space_id",
}


def split_buckets(iv: pd.DataFrame, bucket_s: int) -> pd.DataFrame:
    """Cut intervals at bucket edges: one row per (interval, bucket) with
    ``bucket`` (epoch index), ``seconds`` of overlap [s], ``row`` (the
    interval's position) and its ``space_id`` and ``value``."""
    start = iv["start"].to_numpy(dtype=float)
    end = iv["end"].to_numpy(dtype=float)
    b0 = np.floor(start / bucket_s).astype(np.int64)
    b1 = np.ceil(end / bucket_s).astype(np.int64) - 1
    n = np.maximum(b1 - b0 + 1, 0)
    row = np.repeat(np.arange(len(iv)), n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    bucket = b0[row] + offset
    seg0 = np.maximum(start[row], bucket * float(bucket_s))
    seg1 = np.minimum(end[row], (bucket + 1) * float(bucket_s))
    return pd.DataFrame(
        {
            "row": row,
            "space_id": iv["space_id"].to_numpy()[row],
            "bucket": bucket,
            "seconds": seg1 - seg0,
            "value": iv["value"].to_numpy(dtype=float)[row],
        }
    )


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def ordinal_dates(ordinals: pd.Series | np.ndarray) -> np.ndarray:
    """Proleptic ordinals → ``datetime.date`` objects."""
    arr = np.asarray(ordinals, dtype=np.int64)
    uniq, inv = np.unique(arr, return_inverse=True)
    dates = np.array([dt.date.fromordinal(int(o)) for o in uniq], dtype=object)
    return dates[inv] if len(arr) else np.array([], dtype=object)


def _attach_calendar(pieces: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """Add day (as a date ordinal), hour and available of each piece's bucket (``grid`` from
    :func:`analytics.calendar.bucket_frame` with ``available_only=False``);
    pieces outside the grid are dropped."""
    b0 = int(grid["bucket"].iloc[0])
    pos = pieces["bucket"].to_numpy() - b0
    ok = (pos >= 0) & (pos < len(grid))
    out = pieces[ok].copy()
    pos = pos[ok]
    # Days as ordinals while grouping (dates are slow Python objects).
    epoch_days = (
        pd.to_datetime(grid["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    )
    out["day"] = epoch_days[pos] + _EPOCH_ORDINAL
    out["hour"] = grid["hour"].to_numpy()[pos]
    out["available"] = grid["available"].to_numpy()[pos]
    return out


def space_daily(
    iv: pd.DataFrame,
    stuck: pd.DataFrame,
    spaces: pd.DataFrame,
    grid: pd.DataFrame,
    cal: Calendar,
    *,
    desk_min_hour_s: float,
    desk_min_day_s: float,
    collab_min_hour_s: float,
    collab_min_day_s: float,
) -> pd.DataFrame:
    """Per space (with data) and local day: the ``analytics_space_daily`` columns.

    ``iv``: clean intervals; ``stuck``: excluded stuck runs; ``spaces``:
    space_id, kind; ``grid``: every bucket of the days (available or not)."""
    return space_daily_hourly(
        iv,
        stuck,
        spaces,
        grid,
        cal,
        desk_min_hour_s=desk_min_hour_s,
        desk_min_day_s=desk_min_day_s,
        collab_min_hour_s=collab_min_hour_s,
        collab_min_day_s=collab_min_day_s,
    )[0]


def space_daily_hourly(
    iv: pd.DataFrame,
    stuck: pd.DataFrame,
    spaces: pd.DataFrame,
    grid: pd.DataFrame,
    cal: Calendar,
    *,
    desk_min_hour_s: float,
    desk_min_day_s: float,
    collab_min_hour_s: float,
    collab_min_day_s: float,
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
    # Sessions per day: occupied runs touching available time that day.
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
    sess = (
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
    thr_h = np.where(is_desk, desk_min_hour_s, collab_min_hour_s)
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
    avail_per_day = grid[grid["available"]].groupby("day").size() * float(bs)
    daily["available_s"] = daily["day"].map(avail_per_day).fillna(0.0).astype(float)
    desk = desk_code[daily["space_id"].to_numpy(dtype=np.int64)]
    daily["space_id"] = names.to_numpy(dtype=object)[
        daily["space_id"].to_numpy(dtype=np.int64)
    ]
    thr_d = np.where(desk, desk_min_day_s, collab_min_day_s)
    daily["used_day"] = daily["occupied_s"].to_numpy() >= thr_d
    daily["sessions"] = daily["sessions"].astype(int)
    daily["hours_used"] = daily["hours_used"].astype(int)
    cols = [
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
    daily = daily[cols].sort_values(["day", "space_id"]).reset_index(drop=True)
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
    return daily, hours.sort_values(["day", "space_id", "hour"]).reset_index(drop=True)


def membership(spaces: pd.DataFrame) -> pd.DataFrame:
    """(space_id, level, level_id) for every group level a space belongs to
    (rooms also form their own ``room`` level)."""
    parts = []
    for level, col in GROUP_LEVELS.items():
        sub = spaces
        if level == "room":
            sub = spaces[spaces["kind"] != "desk"]
        sub = sub[sub[col].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "space_id": sub["space_id"].to_numpy(),
                    "level": level,
                    "level_id": sub[col].astype(str).to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def group_peaks(
    iv: pd.DataFrame, groups: pd.DataFrame, buckets: np.ndarray, bucket_s: int
) -> pd.DataFrame:
    """Largest *simultaneous* total of ``value`` over the spaces of each group
    in each bucket. ``iv``: intervals (space_id, start, end, value);
    ``groups``: (space_id, group) with integer group codes; ``buckets``: the
    bucket indexes wanted. Returns (group, bucket, peak) for every group × bucket.

    Sweep: +value at each start, -value at each end, sorted by (group, time),
    cumulative sum = the group's total after each instant's edges; the peak in
    a bucket is the larger of the total carried in at its start and the totals
    after instants inside it."""
    n_groups = int(groups["group"].max()) + 1 if len(groups) else 0
    grid_g = np.repeat(np.arange(n_groups), len(buckets))
    grid_b = np.tile(buckets, n_groups)
    pos_iv = iv[iv["value"] > 0]
    j = pos_iv[["space_id", "start", "end", "value"]].merge(groups, on="space_id")
    if len(j) == 0 or n_groups == 0:
        return pd.DataFrame({"group": grid_g, "bucket": grid_b, "peak": 0.0})
    g = np.r_[j["group"].to_numpy(), j["group"].to_numpy()]
    t = np.r_[j["start"].to_numpy(), j["end"].to_numpy()]
    d = np.r_[j["value"].to_numpy(), -j["value"].to_numpy()]
    order = np.lexsort((d, t, g))
    g, t, d = g[order], t[order], d[order]
    level = np.cumsum(d)
    tmin = min(float(t.min()), float(buckets.min()) * bucket_s) - 1.0
    span = max(float(t.max()), float(buckets.max() + 1) * bucket_s) - tmin + 1.0
    key = g * span + (t - tmin)
    gkey = grid_g * span + (grid_b * float(bucket_s) - tmin)
    pos = np.searchsorted(key, gkey, side="right") - 1
    valid = pos >= 0
    carry = np.zeros(len(gkey))
    carry[valid] = np.where(g[pos[valid]] == grid_g[valid], level[pos[valid]], 0.0)
    # Only the total after the last edge at an instant is ever real (an end and
    # a start at the same instant are a handover, not an overlap).
    last_at_t = np.r_[(g[1:] != g[:-1]) | (t[1:] != t[:-1]), True]
    ev = pd.DataFrame(
        {
            "group": g[last_at_t],
            "bucket": np.floor(t[last_at_t] / bucket_s).astype(np.int64),
            "level": level[last_at_t],
        }
    )
    ev_max = ev.groupby(["group", "bucket"])["level"].max()
    out = pd.DataFrame({"group": grid_g, "bucket": grid_b, "peak": carry})
    inside = ev_max.reindex(pd.MultiIndex.from_arrays([grid_g, grid_b])).to_numpy()
    out["peak"] = np.fmax(out["peak"].to_numpy(), inside)
    out["peak"] = np.round(out["peak"].to_numpy(), 9)
    return out


def level_buckets(
    iv: pd.DataFrame, spaces: pd.DataFrame, grid: pd.DataFrame, cal: Calendar
) -> pd.DataFrame:
    """Per level, group and bucket with data (working hours or not, flagged
    ``in_working_hours``): the ``analytics_level_buckets`` columns. ``spaces``: space_id, kind, capacity,
    zone_id, floor_id, building_id, department_id (only spaces with a sensor).

    Sums are taken on a dense (space × bucket) grid with ``np.bincount`` and
    summed per group with ``np.add.at``: no string grouping on the hot path."""
    bs = cal.bucket_s
    sp = spaces.reset_index(drop=True)
    ab = grid["bucket"].to_numpy()
    ns, nb = len(sp), len(ab)
    iv_code = pd.Index(sp["space_id"]).get_indexer(iv["space_id"])
    pieces = _attach_calendar(split_buckets(iv.assign(space_id=iv_code), bs), grid)
    code = pieces["space_id"].to_numpy(dtype=np.int64)
    ok = code >= 0
    code = code[ok]
    bpos = np.searchsorted(ab, pieces["bucket"].to_numpy()[ok])
    sec = pieces["seconds"].to_numpy()[ok]
    val = pieces["value"].to_numpy()[ok]
    key = code.astype(np.int64) * nb + bpos
    size = ns * nb

    def dense(weights: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=size).reshape(ns, nb)

    measured = dense(sec)
    occupied = dense(np.where(val > 0, sec, 0.0))
    people = dense(val * sec)
    cap = sp["capacity"].to_numpy(dtype=float)
    is_desk = (sp["kind"] == "desk").to_numpy()
    has = measured > 0
    mem = membership(sp)
    codes = mem[["level", "level_id"]].drop_duplicates().reset_index(drop=True)
    codes["group"] = np.arange(len(codes))
    gm = mem.merge(codes, on=["level", "level_id"])
    g = gm["group"].to_numpy()
    s_of = pd.Index(sp["space_id"]).get_indexer(gm["space_id"])
    ng = len(codes)

    # Sum member rows per group: sort by group once, then np.add.reduceat.
    order = np.argsort(g, kind="stable")
    g_sorted, s_sorted = g[order], s_of[order]
    firsts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])

    def per_group(mat: np.ndarray) -> np.ndarray:
        out = np.zeros((ng, nb))
        if len(g_sorted):
            out[g_sorted[firsts]] = group_row_sums(mat, s_sorted, firsts)
        return out

    frames = {
        "measured_spaces": per_group(has.astype(float)),
        "desks_measured": per_group((has & is_desk[:, None]).astype(float)),
        "capacity_s": per_group(measured * cap[:, None]),
        "measured_s": per_group(measured),
        "occupied_s": per_group(occupied),
        "people_s": per_group(people),
    }
    gi, bi = np.nonzero(frames["measured_spaces"] > 0)
    agg = pd.DataFrame({"group": gi, "bucket": ab[bi]})
    for name, mat in frames.items():
        agg[name] = mat[gi, bi]
    n_spaces = np.bincount(g, minlength=ng)
    n_cap = np.bincount(g, weights=cap[s_of], minlength=ng)
    agg["spaces"] = n_spaces[gi]
    agg["capacity"] = n_cap[gi]
    peaks = group_peaks(iv, gm[["space_id", "group"]], ab, bs)
    desk_iv = iv[iv["space_id"].isin(sp.loc[is_desk, "space_id"])]
    desk_iv = desk_iv.assign(value=(desk_iv["value"] > 0).astype(float))
    dpeaks = group_peaks(desk_iv, gm[["space_id", "group"]], ab, bs)
    # group_peaks returns group-major rows over all buckets: index directly.
    agg["peak_people"] = peaks["peak"].to_numpy()[gi * nb + bi]
    agg["peak_desks_occupied"] = dpeaks["peak"].to_numpy()[gi * nb + bi]
    agg = agg.merge(codes, on="group").drop(columns="group")
    b0 = int(grid["bucket"].iloc[0])
    agg["day"] = grid["day"].to_numpy()[agg["bucket"].to_numpy() - b0]
    agg["in_working_hours"] = grid["available"].to_numpy(dtype=bool)[
        agg["bucket"].to_numpy() - b0
    ]
    agg["bucket_start"] = pd.to_datetime(
        agg["bucket"].to_numpy() * bs, unit="s", utc=True
    )
    cols = [
        "bucket_start",
        "day",
        "level",
        "level_id",
        "spaces",
        "capacity",
        "measured_spaces",
        "desks_measured",
        "capacity_s",
        "measured_s",
        "occupied_s",
        "people_s",
        "peak_people",
        "peak_desks_occupied",
        "in_working_hours",
    ]
    out = agg[cols].astype(
        {"spaces": int, "capacity": int, "measured_spaces": int, "desks_measured": int}
    )
    return out.sort_values(["level", "level_id", "bucket_start"]).reset_index(drop=True)


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
