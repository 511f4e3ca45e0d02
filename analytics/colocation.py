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

from analytics.coloc_codes import daily_counts, presence_lists
from analytics.privacy import suppress

logger = logging.getLogger(__name__)

__all__ = [
    "SOURCES",
    "colocation_daily",
    "colocation_matrix",
    "department_presence",
    "diversity",
    "diversity_from_counts",
    "matrix_from_counts",
    "source_of_zone_kind",
    "weekly_colocation",
]

SOURCES = ("neighbourhood", "meeting", "shared")

#: Columns of the matrix before ``suppressed``.
MATRIX_COLUMNS = (
    "source",
    "department_a",
    "department_b",
    "minutes",
    "people_a",
    "people_b",
    "expected_minutes",
    "lift",
)


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
    ``badge_departments``: badge, department_id[, valid_from, valid_to: UTC,
    NaT = open; a sighting counts for the membership valid at its ts];
    ``zones``: zone_id, kind.
    Badges not in the register are ignored. Columns: zone_id, bucket, source,
    department_id, people, badges."""
    s = _with_department(
        sightings[["ts", "zone_id", "badge"]].dropna(), badge_departments
    )
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
    ns = pd.DatetimeIndex(pd.to_datetime(s["ts"], utc=True)).as_unit("ns").asi8
    badge = s["badge"]
    if not isinstance(badge.dtype, pd.CategoricalDtype):
        badge = badge.astype(str)  # a categorical is ranked by its text (ranks)
    out = presence_lists(s["zone_id"], ns, s["department_id"], badge, bucket_s)
    kind = zones.set_index("zone_id")["kind"]
    out["source"] = source_of_zone_kind(out["zone_id"].map(kind))
    return out[["zone_id", "bucket", "source", "department_id", "people", "badges"]]


def _with_department(s: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Sightings with the department of their badge (registered badges only):
    a lookup when each badge has one open-ended membership, else the
    membership valid at each sighting's time."""
    history = "valid_from" in register.columns and bool(
        register["valid_from"].notna().any() or register["valid_to"].notna().any()
    )
    if not history and register["badge"].is_unique:
        pos = pd.Index(register["badge"]).get_indexer(s["badge"])
        keep = pos >= 0
        dept = register["department_id"].to_numpy()[pos[keep]]
        found: pd.DataFrame = s[keep].assign(department_id=dept)
        return found
    if "valid_from" not in register.columns:
        plain: pd.DataFrame = s.merge(register[["badge", "department_id"]], on="badge")
        return plain
    # Membership with history: the department each badge had at the time.
    s = s.merge(register, on="badge")
    ts = pd.to_datetime(s["ts"], utc=True)
    return s[
        (s["valid_from"].isna() | (ts >= s["valid_from"]))
        & (s["valid_to"].isna() | (ts < s["valid_to"]))
    ]


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
    cols = list(MATRIX_COLUMNS)
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
    pa = _distinct(j, keys, "badges_a").rename("people_a")
    pb = _distinct(j, keys, "badges_b").rename("people_b")
    m = m.merge(pa.reset_index(), on=keys).merge(pb.reset_index(), on=keys)
    dept_n = allp.groupby(["source", "department_id"]).size()
    any_n = (
        allp[["source", "zone_id", "bucket"]].drop_duplicates().groupby("source").size()
    )
    return matrix_from_counts(
        m, dept_n, any_n, bucket_minutes=bucket_minutes, k=k, cols=cols
    )


def matrix_from_counts(
    m: pd.DataFrame,
    dept_n: pd.Series,
    any_n: pd.Series,
    *,
    bucket_minutes: float,
    k: int,
    cols: list[str] | None = None,
) -> pd.DataFrame:
    """Finish the co-location matrix from counts. ``m``: source, department_a,
    department_b, n (buckets both present), people_a, people_b (distinct
    badges); ``dept_n``: buckets a department was present, indexed (source,
    department_id); ``any_n``: buckets anyone was present, indexed by source.
    Shared by the in-memory path and the stored daily counts (same result)."""
    cols = cols or list(MATRIX_COLUMNS)
    m = m.copy()
    m["minutes"] = m["n"] * float(bucket_minutes)
    # Expected under independence within each source.
    dept_min = dept_n * float(bucket_minutes)
    any_min = any_n * float(bucket_minutes)
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
    pm = p.groupby(["zone_id", "department_id"])["people"].sum()
    people = (
        p[["zone_id", "badges"]]
        .explode("badges")
        .drop_duplicates()
        .groupby("zone_id")
        .size()
    )
    return diversity_from_counts(pm, people, bucket_minutes=bucket_minutes, k=k)


def diversity_from_counts(
    people_buckets: pd.Series, people: pd.Series, *, bucket_minutes: float, k: int
) -> pd.DataFrame:
    """Finish the diversity table from counts: ``people_buckets`` = Σ people
    over buckets indexed (zone_id, department_id); ``people`` = distinct badges
    per zone_id. Shared by the in-memory path and the stored daily counts."""
    pm = people_buckets * float(bucket_minutes)
    share = pm / pm.groupby(level="zone_id").transform("sum")
    simpson = 1.0 - (share**2).groupby(level="zone_id").sum()
    shannon = -(share * np.log(share)).groupby(level="zone_id").sum()
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


def colocation_daily(presence: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per local day, the counts the co-location matrix and the diversity
    index are built from, so a read is SQL aggregation instead of a pass over
    every bucket. ``presence``: department_presence plus ``day``. Returns
    frames named as their tables:

    - analytics_coloc_pairs: day, zone_id, source, department_a, department_b,
      buckets (both present; a = b: the department was present);
    - analytics_coloc_zone: day, zone_id, source, buckets (anyone present);
    - analytics_coloc_dept: day, zone_id, source, department_id, buckets,
      people_buckets (Σ people over buckets);
    - analytics_coloc_badges: day, zone_id, source, department_a, department_b,
      badge — one row per badge of a seen in a bucket where b was present
      (a = b: every badge of a), for exact distinct-people counts over any
      range;
    - analytics_coloc_badges_site: the same without zone_id (unfiltered reads).

    The badge frames are stored as one bitmap row per cell
    (:mod:`analytics.coloc_bits`, tables analytics_coloc_bits[_site])."""
    if len(presence) == 0:
        return _empty_daily()
    return daily_counts(presence)


_DAILY_COLUMNS = {
    "analytics_coloc_pairs": (
        "day zone_id source department_a department_b buckets".split()
    ),
    "analytics_coloc_zone": "day zone_id source buckets".split(),
    "analytics_coloc_dept": (
        "day zone_id source department_id buckets people_buckets".split()
    ),
    "analytics_coloc_badges": (
        "day zone_id source department_a department_b badge".split()
    ),
    "analytics_coloc_badges_site": (
        "day source department_a department_b badge".split()
    ),
}


def _empty_daily() -> dict[str, pd.DataFrame]:
    return {
        table: pd.DataFrame(
            {
                c: pd.Series(
                    dtype=np.int64 if c in ("buckets", "people_buckets") else object
                )
                for c in cols
            }
        )
        for table, cols in _DAILY_COLUMNS.items()
    }
