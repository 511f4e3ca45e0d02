"""Cross-department co-location from badge zone presence (docs/metrics.md).

A department is *present* in a zone during a bucket when at least one of its
badges was sighted there in that bucket. Co-presence of departments A and B =
bucket minutes during which both are present in the same zone, summed over
zones and buckets. Sources by zone kind: ``neighbourhood`` (department home
zones, i.e. neighbourhood desks), ``meeting`` (meeting-room zones: meeting
attendance), ``shared`` (shared and other zones); ``all`` = their sum.

Every cell is k-suppressed on the distinct badges behind it: a cell (A, B) is
shown only if at least k distinct people of A *and* k of B contributed.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analytics.privacy import suppress

logger = logging.getLogger(__name__)

__all__ = [
    "SOURCES",
    "colocation_matrix",
    "department_presence",
    "diversity",
    "source_of_zone_kind",
    "weekly_colocation",
]

SOURCES = ("neighbourhood", "meeting", "shared")


def source_of_zone_kind(kind: pd.Series) -> pd.Series:
    """Zone kind → co-location source."""
    return kind.map({"neighbourhood": "neighbourhood", "meeting": "meeting"}).fillna(
        "shared"
    )


def department_presence(
    sightings: pd.DataFrame,
    badge_departments: pd.DataFrame,
    zones: pd.DataFrame,
    bucket_s: int,
) -> pd.DataFrame:
    """Per (zone, bucket, department): ``people`` (distinct badges) and
    ``badges`` (sorted list of pseudonyms). ``sightings``: ts, zone_id, badge;
    ``badge_departments``: badge, department_id; ``zones``: zone_id, kind.
    Badges not in the register are ignored. Columns: zone_id, bucket, source,
    department_id, people, badges."""
    s = sightings[["ts", "zone_id", "badge"]].dropna()
    s = s.merge(badge_departments[["badge", "department_id"]], on="badge")
    if len(s) == 0:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in [
                    ("zone_id", object),
                    ("bucket", np.int64),
                    ("source", object),
                    ("department_id", object),
                    ("people", np.int64),
                    ("badges", object),
                ]
            }
        )
    t = (
        pd.to_datetime(s["ts"], utc=True) - pd.Timestamp(0, tz="UTC")
    ).dt.total_seconds()
    s = s.assign(bucket=np.floor(t.to_numpy() / bucket_s).astype(np.int64))
    s = s[["zone_id", "bucket", "department_id", "badge"]].drop_duplicates()
    s = s.sort_values(["zone_id", "bucket", "department_id", "badge"])
    g = s.groupby(["zone_id", "bucket", "department_id"], sort=False)["badge"]
    out = g.agg(list).rename("badges").reset_index()
    out["people"] = out["badges"].map(len).astype(np.int64)
    kind = zones.set_index("zone_id")["kind"]
    out["source"] = source_of_zone_kind(out["zone_id"].map(kind))
    return out[["zone_id", "bucket", "source", "department_id", "people", "badges"]]


def _pairs(presence: pd.DataFrame) -> pd.DataFrame:
    p = presence[["zone_id", "bucket", "source", "department_id", "badges"]]
    j = p.merge(p, on=["zone_id", "bucket", "source"], suffixes=("_a", "_b"))
    return j


def _distinct(j: pd.DataFrame, keys: list[str], col: str) -> pd.Series:
    e = j[[*keys, col]].explode(col)
    return e.drop_duplicates().groupby(keys).size()


def colocation_matrix(
    presence: pd.DataFrame, *, bucket_minutes: float, k: int, by_source: bool = True
) -> pd.DataFrame:
    """Department × department co-presence, per source and ``all``.

    Columns: source, department_a, department_b, minutes [min], people_a,
    people_b (distinct badges behind the cell), expected_minutes, lift
    (observed ÷ expected under independence: present(A) × present(B) ÷ minutes
    with anyone present, per source), suppressed. Cells under k are
    suppressed (minutes, lift, people removed). Stable order."""
    cols = [
        "source",
        "department_a",
        "department_b",
        "minutes",
        "people_a",
        "people_b",
        "expected_minutes",
        "lift",
    ]
    if len(presence) == 0:
        return suppress(
            pd.DataFrame(
                {
                    c: pd.Series(
                        dtype=object if c.startswith(("source", "dep")) else float
                    )
                    for c in cols
                }
            ),
            ["people_a", "people_b"],
            ["minutes", "expected_minutes", "lift"],
            k,
        )
    pres = presence.copy()
    frames = [pres.assign(source="all")]
    if by_source:
        frames.insert(0, pres)
    allp = pd.concat(frames, ignore_index=True)
    j = _pairs(allp)
    keys = ["source", "department_a", "department_b"]
    j = j.rename(
        columns={"department_id_a": "department_a", "department_id_b": "department_b"}
    )
    m = j.groupby(keys).size().rename("n").reset_index()
    m["minutes"] = m["n"] * float(bucket_minutes)
    pa = _distinct(j, keys, "badges_a").rename("people_a")
    pb = _distinct(j, keys, "badges_b").rename("people_b")
    m = m.merge(pa.reset_index(), on=keys).merge(pb.reset_index(), on=keys)
    # Expected under independence within each source.
    dept_min = allp.groupby(["source", "department_id"]).size() * float(bucket_minutes)
    any_min = allp[["source", "zone_id", "bucket"]].drop_duplicates().groupby(
        "source"
    ).size() * float(bucket_minutes)
    ea = dept_min.reindex(
        pd.MultiIndex.from_frame(m[["source", "department_a"]])
    ).to_numpy()
    eb = dept_min.reindex(
        pd.MultiIndex.from_frame(m[["source", "department_b"]])
    ).to_numpy()
    tot = m["source"].map(any_min).to_numpy(dtype=float)
    m["expected_minutes"] = ea * eb / tot
    m["lift"] = np.where(
        m["department_a"] == m["department_b"],
        np.nan,
        m["minutes"] / m["expected_minutes"],
    )
    src_order = {s: i for i, s in enumerate([*SOURCES, "all"])}
    m["_o"] = m["source"].map(src_order)
    m = m.sort_values(["_o", "department_a", "department_b"]).drop(columns=["_o", "n"])
    m = m[cols].reset_index(drop=True)
    return suppress(
        m, ["people_a", "people_b"], ["minutes", "expected_minutes", "lift"], k
    )


def diversity(
    presence: pd.DataFrame,
    *,
    bucket_minutes: float,
    k: int,
    zone_kinds: tuple[str, ...] = ("shared",),
) -> pd.DataFrame:
    """Mix of departments per zone of the given sources: ``simpson`` (1 − Σ pᵢ²
    over departments' people-minutes shares), ``shannon`` (−Σ pᵢ ln pᵢ),
    ``departments`` seen, ``people`` distinct. Zones with fewer than k
    distinct people suppressed."""
    p = presence[presence["source"].isin(zone_kinds)]
    if len(p) == 0:
        empty = pd.DataFrame(
            {
                "zone_id": pd.Series(dtype=object),
                "departments": pd.Series(dtype=float),
                "people": pd.Series(dtype=float),
                "simpson": pd.Series(dtype=float),
                "shannon": pd.Series(dtype=float),
            }
        )
        return suppress(empty, "people", ["departments", "simpson", "shannon"], k)
    pm = p.groupby(["zone_id", "department_id"])["people"].sum() * float(bucket_minutes)
    share = pm / pm.groupby(level="zone_id").transform("sum")
    simpson = 1.0 - (share**2).groupby(level="zone_id").sum()
    shannon = -(share * np.log(share)).groupby(level="zone_id").sum()
    people = (
        p[["zone_id", "badges"]]
        .explode("badges")
        .drop_duplicates()
        .groupby("zone_id")
        .size()
    )
    out = pd.DataFrame(
        {
            "departments": pm.groupby(level="zone_id").size().astype(float),
            "people": people.astype(float),
            "simpson": simpson,
            "shannon": shannon,
        }
    ).reset_index()
    out = out.sort_values("zone_id").reset_index(drop=True)
    return suppress(out, "people", ["departments", "simpson", "shannon"], k)


def weekly_colocation(
    presence: pd.DataFrame, week: pd.Series, *, bucket_minutes: float, k: int
) -> pd.DataFrame:
    """The combined (``all``) matrix per week (``week``: label per presence row,
    e.g. the local ISO week's Monday), each week suppressed on its own."""
    parts = []
    for label in sorted(week.unique()):
        sub = presence[(week == label).to_numpy()]
        m = colocation_matrix(sub, bucket_minutes=bucket_minutes, k=k, by_source=False)
        m.insert(0, "week", label)
        parts.append(m)
    if not parts:
        return colocation_matrix(
            presence.iloc[0:0], bucket_minutes=bucket_minutes, k=k, by_source=False
        ).assign(week=pd.Series(dtype=object))
    return pd.concat(parts, ignore_index=True)
