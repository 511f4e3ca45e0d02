"""Fixed-period release of badge-derived measures (co-location, department
mix): the rules that keep differencing of two answers from recovering what
k-suppression hides.

k-suppression per query is not enough: the answer for days 1-7 minus the
answer for days 1-6 is day 7, whose own cell may cover one person. So every
badge-derived figure is built only from **released periods**: whole local ISO
weeks (Monday to Sunday) that have ended. Each week's cell is suppressed on
its own (fewer than k distinct people on either side: the week contributes
nothing), and a range's figure is the sum of the released week cells it
touches. Any two answers then differ by a sum of released week cells, each of
which covers at least k people on its own (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analytics.colocation import (
    MATRIX_COLUMNS,
    SOURCES,
    colocation_matrix,
    diversity_from_counts,
)
from analytics.privacy import suppress

logger = logging.getLogger(__name__)

__all__ = [
    "combine_released",
    "local_today",
    "pool_small_groups",
    "released_diversity",
    "released_matrix",
    "released_weeks",
    "week_monday",
]

_WEEK = dt.timedelta(days=7)


def week_monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def local_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the site's time zone (``now``: aware; default now)."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(ZoneInfo(timezone)).date()


def released_weeks(start: dt.date, end: dt.date, today: dt.date) -> list[dt.date]:
    """Mondays of the released weeks a range [start, end] touches: every ISO
    week with a day in the range whose Sunday lies before ``today`` (a week
    still running is not released: its answer would change day by day and so
    reveal each day). Contiguous and ascending; empty if none."""
    if end < start:
        return []
    first = week_monday(start)
    last = week_monday(end)
    newest_released = week_monday(today) - _WEEK
    last = min(last, newest_released)
    if last < first:
        return []
    n = (last - first).days // 7 + 1
    return [first + i * _WEEK for i in range(n)]


def combine_released(
    weekly: pd.DataFrame,
    keys: list[str],
    sum_cols: list[str],
) -> pd.DataFrame:
    """Range cells from week cells: per ``keys``, the sum of ``sum_cols`` over
    the weeks whose cell was released (``suppressed`` False), ``weeks`` the
    number of such weeks. Keys that only have suppressed weeks stay, with
    NaN sums and 0 weeks (they are suppressed as a whole)."""
    if weekly.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in keys})
        for c in sum_cols:
            out[c] = pd.Series(dtype=float)
        out["weeks"] = pd.Series(dtype=np.int64)
        return out
    released = ~weekly["suppressed"].astype(bool).to_numpy()
    vals = weekly[sum_cols].astype(float).mul(released.astype(float), axis=0)
    frame = pd.concat(
        [weekly[keys].reset_index(drop=True), vals.reset_index(drop=True)], axis=1
    )
    frame["weeks"] = released.astype(np.int64)
    out = frame.groupby(keys, sort=False, dropna=False).sum().reset_index()
    none = (out["weeks"] == 0).to_numpy()
    for c in sum_cols:
        out[c] = out[c].where(~none, np.nan)
    return out


def pool_small_groups(
    counts: pd.DataFrame,
    *,
    period_keys: list[str],
    group_col: str,
    people_col: str,
    k: int,
    other: str = "other",
) -> pd.DataFrame:
    """Rows of ``counts`` (one per period, group) where a group with fewer
    than k distinct people in its period is pooled into the group ``other``
    (people and every other numeric column summed); a pool still under k is
    dropped. So a released share is always the share of at least k people
    (a department mix with a one-person department would otherwise give that
    person's share exactly)."""
    small = counts[people_col].astype(float) < k
    big = counts[~small]
    pool = counts[small].copy()
    if pool.empty:
        return big.reset_index(drop=True)
    pool[group_col] = other
    pooled = pool.groupby([*period_keys, group_col], sort=False).sum().reset_index()
    pooled = pooled[pooled[people_col].astype(float) >= k]
    out = pd.concat([big, pooled[big.columns]], ignore_index=True)
    return out.sort_values([*period_keys, group_col]).reset_index(drop=True)


def _week_of(days: pd.Series) -> pd.Series:
    d = pd.to_datetime(days)
    return (d - pd.to_timedelta(d.dt.weekday, unit="D")).dt.date


def released_matrix(
    pres: pd.DataFrame, *, bm: float, k: int, by_source: bool
) -> pd.DataFrame:
    """The released co-location matrix computed in memory from bucket
    presence (``department_presence`` rows with ``day``): each local week's
    :func:`colocation_matrix`, released cells summed, people distinct over the
    weeks a cell was released. The SQL reader ``read_colocation`` gives the
    very same frame from the stored daily counts (tested)."""
    week = _week_of(pres["day"])
    parts = []
    for label in sorted(week.unique()):
        m = colocation_matrix(
            pres[(week == label).to_numpy()],
            bucket_minutes=bm,
            k=k,
            by_source=by_source,
        )
        m.insert(0, "week", label)
        parts.append(m)
    if not parts:
        return colocation_matrix(pres, bucket_minutes=bm, k=k, by_source=by_source)
    weekly = pd.concat(parts, ignore_index=True)
    keys = ["source", "department_a", "department_b"]
    m = combine_released(weekly, keys, ["minutes", "expected_minutes"])
    rel = weekly.loc[~weekly["suppressed"], ["week", *keys]]
    p = pres.assign(week=week.to_numpy())
    allp = [p.assign(source="all")] + ([p] if by_source else [])
    allp_f = pd.concat(allp, ignore_index=True)
    j = allp_f.merge(allp_f, on=["zone_id", "bucket", "source", "week"])
    j = j.rename(
        columns={"department_id_x": "department_a", "department_id_y": "department_b"}
    )
    j = j.merge(rel, on=["week", *keys])
    e = j[[*keys, "badges_x"]].explode("badges_x").drop_duplicates()
    people = e.groupby(keys).size()
    idx = pd.MultiIndex.from_frame(m[keys])
    sw = pd.MultiIndex.from_frame(m[["source", "department_b", "department_a"]])
    m["people_a"] = people.reindex(idx).to_numpy(dtype=float)
    m["people_b"] = people.reindex(sw).to_numpy(dtype=float)
    m["lift"] = np.where(
        m["department_a"] == m["department_b"],
        np.nan,
        m["minutes"] / m["expected_minutes"],
    )
    order = {s: i for i, s in enumerate([*SOURCES, "all"])}
    m = m.assign(_o=m["source"].map(order)).sort_values(
        ["_o", "department_a", "department_b"]
    )
    m = m[list(MATRIX_COLUMNS)].reset_index(drop=True)
    return suppress(
        m, ["people_a", "people_b"], ["minutes", "expected_minutes", "lift"], k
    )


def released_diversity(pres: pd.DataFrame, *, bm: float, k: int) -> pd.DataFrame:
    """The released department mix computed in memory from bucket presence:
    per week, zone and department Σ people and distinct badges, small
    departments pooled, the released weeks' sums turned into shares; what
    ``read_diversity`` gives from the stored daily counts (tested)."""
    p = pres[pres["source"] == "shared"].assign(week=_week_of(pres["day"]))
    p = p[p["source"] == "shared"]
    keys = ["week", "zone_id", "department_id"]
    v = p.groupby(keys)["people"].sum().rename("v")
    e = p[[*keys, "badges"]].explode("badges").drop_duplicates()
    ppl = e.groupby(keys).size().rename("people")
    g = pd.concat([v, ppl], axis=1).reset_index()
    g = pool_small_groups(
        g,
        period_keys=["week", "zone_id"],
        group_col="department_id",
        people_col="people",
        k=k,
    )
    rel = g[["week", "zone_id"]].drop_duplicates()
    zp = e.merge(rel, on=["week", "zone_id"])[["zone_id", "badges"]]
    people = zp.drop_duplicates().groupby("zone_id").size()
    total = g.groupby(["zone_id", "department_id"])["v"].sum()
    zones = total.index.get_level_values("zone_id").unique()
    out = diversity_from_counts(
        total.astype(np.int64),
        people.reindex(zones).fillna(0).astype(np.int64),
        bucket_minutes=bm,
        k=k,
    )
    # A zone whose every department was pooled away: one suppressed row.
    gone = sorted(set(p["zone_id"]) - set(zones))
    hidden = pd.DataFrame(
        {
            "zone_id": gone,
            "departments": np.nan,
            "people": np.nan,
            "simpson": np.nan,
            "shannon": np.nan,
            "suppressed": True,
        }
    )
    out = pd.concat([out, hidden], ignore_index=True) if gone else out
    return out.sort_values("zone_id").reset_index(drop=True)
