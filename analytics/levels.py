"""Per-level measures (zone, floor, building, department, room) from presence
intervals: the ``analytics_level_buckets`` rollup and the *simultaneous* peak of
each group from a sweep over interval edges (docs/metrics.md). Vectorized
(numpy bincount / reduceat / searchsorted), no string grouping on the hot path.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analytics.buckets import attach_calendar as _attach_calendar
from analytics.buckets import split_buckets
from analytics.calendar import Calendar
from analytics.groupsum import group_row_sums

logger = logging.getLogger(__name__)

__all__ = ["GROUP_LEVELS", "group_peaks", "level_buckets", "membership"]

#: Levels stored in ``analytics_level_buckets`` → column of the spaces frame.
GROUP_LEVELS = {
    "zone": "zone_id",
    "floor": "floor_id",
    "building": "building_id",
    "department": "department_id",
    "room": "space_id",
}


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
    nb = len(ab)
    measured, occupied, people = _dense_space_sums(iv, sp, grid, bs)
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
    frames = _per_group(
        {
            "measured_spaces": has.astype(float),
            "desks_measured": (has & is_desk[:, None]).astype(float),
            "capacity_s": measured * cap[:, None],
            "measured_s": measured,
            "occupied_s": occupied,
            "people_s": people,
        },
        g,
        s_of,
        ng,
    )
    gi, bi = np.nonzero(frames["measured_spaces"] > 0)
    agg = pd.DataFrame({"group": gi, "bucket": ab[bi]})
    for name, mat in frames.items():
        agg[name] = mat[gi, bi]
    n_spaces = np.bincount(g, minlength=ng)
    n_cap = np.bincount(g, weights=cap[s_of], minlength=ng)
    agg["spaces"] = n_spaces[gi]
    agg["capacity"] = n_cap[gi]
    peaks, dpeaks = _peaks(iv, sp.loc[is_desk, "space_id"], gm, ab, bs)
    # group_peaks returns group-major rows over all buckets: index directly.
    agg["peak_people"] = peaks[gi * nb + bi]
    agg["peak_desks_occupied"] = dpeaks[gi * nb + bi]
    agg = agg.merge(codes, on="group").drop(columns="group")
    return _level_rows(agg, grid, bs)


def _per_group(
    mats: dict[str, np.ndarray], g: np.ndarray, s_of: np.ndarray, ng: int
) -> dict[str, np.ndarray]:
    """Each (space × bucket) matrix summed over the member rows of each of the
    ``ng`` groups (member row i: group ``g[i]``, space row ``s_of[i]``): sort
    by group once, then ``np.add.reduceat``."""
    order = np.argsort(g, kind="stable")
    g_sorted, s_sorted = g[order], s_of[order]
    firsts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    out: dict[str, np.ndarray] = {}
    for name, mat in mats.items():
        sums = np.zeros((ng, mat.shape[1]))
        if len(g_sorted):
            sums[g_sorted[firsts]] = group_row_sums(mat, s_sorted, firsts)
        out[name] = sums
    return out


def _peaks(
    iv: pd.DataFrame, desks: pd.Series, gm: pd.DataFrame, ab: np.ndarray, bs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group and bucket (group-major, every bucket): the simultaneous
    people peak and the simultaneously occupied desks peak."""
    peaks = group_peaks(iv, gm[["space_id", "group"]], ab, bs)
    desk_iv = iv[iv["space_id"].isin(desks)]
    desk_iv = desk_iv.assign(value=(desk_iv["value"] > 0).astype(float))
    dpeaks = group_peaks(desk_iv, gm[["space_id", "group"]], ab, bs)
    return peaks["peak"].to_numpy(), dpeaks["peak"].to_numpy()


def _dense_space_sums(
    iv: pd.DataFrame, sp: pd.DataFrame, grid: pd.DataFrame, bs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(measured, occupied, people·s) as dense (space × bucket) matrices [s],
    rows in the order of ``sp``, columns the buckets of ``grid``."""
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

    return dense(sec), dense(np.where(val > 0, sec, 0.0)), dense(val * sec)


_LEVEL_COLS = [
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


def _level_rows(agg: pd.DataFrame, grid: pd.DataFrame, bs: int) -> pd.DataFrame:
    """``agg`` (level, level_id, bucket and the sums) as the
    ``analytics_level_buckets`` columns, sorted."""
    b0 = int(grid["bucket"].iloc[0])
    agg["day"] = grid["day"].to_numpy()[agg["bucket"].to_numpy() - b0]
    agg["in_working_hours"] = grid["available"].to_numpy(dtype=bool)[
        agg["bucket"].to_numpy() - b0
    ]
    agg["bucket_start"] = pd.to_datetime(
        agg["bucket"].to_numpy() * bs, unit="s", utc=True
    )
    out = agg[_LEVEL_COLS].astype(
        {"spaces": int, "capacity": int, "measured_spaces": int, "desks_measured": int}
    )
    return out.sort_values(["level", "level_id", "bucket_start"]).reset_index(drop=True)
