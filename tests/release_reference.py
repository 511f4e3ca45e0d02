"""In-memory reference of the fixed-period release rule (analytics.release),
written out directly over bucket presence, for the tests that compare the SQL
reads with it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.colocation import (
    MATRIX_COLUMNS,
    SOURCES,
    colocation_matrix,
    diversity_from_counts,
)
from analytics.privacy import suppress
from analytics.release import combine_released, pool_small_groups


def _week_of(days: pd.Series) -> pd.Series:
    d = pd.to_datetime(days)
    return (d - pd.to_timedelta(d.dt.weekday, unit="D")).dt.date


def reference_matrix(
    pres: pd.DataFrame, *, bm: float, k: int, by_source: bool
) -> pd.DataFrame:
    """The released matrix from bucket presence, written out directly: each
    week's colocation_matrix, released cells summed, people distinct over the
    weeks a cell was released."""
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


def reference_diversity(pres: pd.DataFrame, *, bm: float, k: int) -> pd.DataFrame:
    """The released department mix from bucket presence: per week, zone and
    department Σ people and distinct badges, small departments pooled, the
    released weeks' sums turned into shares."""
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
