"""Department presence and the per-day co-location counts on integer codes.

The same frames as the pandas formulation (merges of the presence with
itself, ``explode`` of the badge lists, ``drop_duplicates`` on text) that it
replaced: every id is turned into its rank among the sorted distinct ids
(:func:`pandas.factorize` with ``sort=True``), tuples of ranks are packed into
one int64 key whose order is the tuples' order, and distinct keys and counts
come from :func:`numpy.unique`. The self-join of the departments present in a
zone and bucket is a ``repeat`` over each group's rows. No Python loop over
sightings or buckets; ids go back to text only in the returned frames.
Pure: frames in, frames out (docs/metrics.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.groupsum import sorted_unique

logger = logging.getLogger(__name__)

__all__ = ["daily_counts", "presence_lists", "ranks"]

_MAX_KEY = 2**62


def ranks(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rank of each value among the sorted distinct values, those values as
    text). A categorical without missing values (the sightings of
    :func:`analytics.db_io.read_sightings`) is ranked from its codes and its
    categories' text, without touching every string: the same ranks and values."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        raw = values.cat.codes.to_numpy().astype(np.int64)
        if len(raw) and int(raw.min()) >= 0:
            used = np.flatnonzero(np.bincount(raw))
            names = np.asarray(values.cat.categories.astype(str), dtype=object)[used]
            order = np.argsort(names, kind="stable")
            remap = np.empty(len(values.cat.categories), dtype=np.int64)
            remap[used[order]] = np.arange(len(used))
            return remap[raw], names[order]
        values = values.astype(object)
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


class Keys:
    """Mixed-radix packing of code columns into one int64 whose order is the
    order of the tuples (first column most significant)."""

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = [max(int(s), 1) for s in sizes]
        total = 1
        for s in self.sizes:
            total *= s
        if total >= _MAX_KEY:
            raise OverflowError(f"co-location key space too large ({total})")

    def pack(self, cols: Sequence[np.ndarray]) -> np.ndarray:
        key = np.zeros(len(cols[0]), dtype=np.int64)
        for c, s in zip(cols, self.sizes, strict=True):
            key = key * s + c
        return key

    def unpack(self, key: np.ndarray) -> list[np.ndarray]:
        out = []
        for s in reversed(self.sizes):
            out.append(key % s)
            key = key // s
        return out[::-1]


def _unique_counts(
    keys: Keys, cols: Sequence[np.ndarray], weights: np.ndarray | None = None
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
    """Distinct tuples of ``cols`` (sorted), their row counts and, with
    ``weights``, the sum of the weights per tuple (int64)."""
    key = keys.pack(cols)
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    summed = None
    if weights is not None:
        summed = np.bincount(inv.ravel(), weights=weights, minlength=len(uniq))
        summed = np.rint(summed).astype(np.int64)
    return keys.unpack(uniq), counts.astype(np.int64), summed


def presence_lists(
    zone_id: pd.Series,
    ns: np.ndarray,
    department_id: pd.Series,
    badge: pd.Series,
    bucket_s: int,
) -> pd.DataFrame:
    """Per (zone, bucket, department) of sightings (``ns``: their UTC
    instants in ns), in that order: people (distinct badges) and badges (their
    sorted list). Columns: zone_id, bucket, department_id, people, badges."""
    bucket = ns // (int(bucket_s) * 10**9)
    zone, zones = ranks(zone_id)
    dept, depts = ranks(department_id)
    code, uniq = ranks(badge)
    b0 = int(bucket.min()) if len(bucket) else 0
    keys = Keys(
        [len(zones), int(bucket.max(initial=b0)) - b0 + 1, len(depts), len(uniq)]
    )
    distinct = sorted_unique(keys.pack([zone, bucket - b0, dept, code]))
    z, b, d, bd = keys.unpack(distinct)
    group = distinct // keys.sizes[3]
    first = np.r_[True, group[1:] != group[:-1]] if len(group) else group.astype(bool)
    starts = np.flatnonzero(first)
    people = np.diff(np.r_[starts, len(group)]).astype(np.int64)
    # One list per group (the rollup stores the pseudonyms as an array).
    lists = [part.tolist() for part in np.split(uniq[bd], starts[1:])]
    return pd.DataFrame(
        {
            "zone_id": zones[z[starts]],
            "bucket": b[starts] + b0,
            "department_id": depts[d[starts]],
            "people": people,
            "badges": pd.Series(lists, dtype=object).to_numpy() if lists else [],
        }
    )


def _explode(badges: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(presence row of each listed badge, its code, the sorted badges)."""
    flat = pd.Series(badges.to_numpy(), dtype=object).explode()
    keep = flat.notna().to_numpy()
    row = flat.index.to_numpy()[keep].astype(np.int64)
    code, uniq = ranks(flat.to_numpy()[keep])
    return row, code, uniq


class _Groups:
    """Presence rows grouped by a key (zone and bucket): the rows in key
    order (stable), each row's group, each group's first position and size."""

    def __init__(self, key: np.ndarray) -> None:
        self.order = np.argsort(key, kind="stable")
        sk = key[self.order]
        first = np.r_[True, sk[1:] != sk[:-1]] if len(sk) else sk.astype(bool)
        self.gid = np.empty(len(key), dtype=np.int64)
        self.gid[self.order] = np.cumsum(first) - 1
        self.starts = np.flatnonzero(first)
        self.sizes = np.diff(np.r_[self.starts, len(sk)])

    def partners(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``rows`` (presence rows, repeats allowed) every row of
        its group: (position in ``rows``, partner row)."""
        g = self.gid[rows]
        starts, sizes = self.starts[g], self.sizes[g]
        left = np.repeat(np.arange(len(rows)), sizes)
        offset = np.arange(len(left)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return left, self.order[np.repeat(starts, sizes) + offset]


class _Rows:
    """The presence rows as codes: day, zone, source, department, bucket
    (from 0), and the sorted distinct values each code stands for."""

    def __init__(self, p: pd.DataFrame) -> None:
        self.day, days = ranks(p["day"])
        self.zone, zones = ranks(p["zone_id"])
        self.src, srcs = ranks(p["source"])
        self.dept, depts = ranks(p["department_id"])
        bucket = p["bucket"].to_numpy().astype(np.int64)
        self.bucket = bucket - (int(bucket.min()) if len(bucket) else 0)
        self.names = {
            "day": days,
            "zone_id": zones,
            "source": srcs,
            "department_id": depts,
            "department_a": depts,
            "department_b": depts,
        }
        self.n = {"day": len(days), "zone": len(zones), "src": len(srcs)}
        self.n["dept"] = len(depts)

    def frame(self, cols: dict[str, np.ndarray], **counts: np.ndarray) -> pd.DataFrame:
        """Codes back to values; ``counts`` as int64 columns after them."""
        out: dict[str, np.ndarray] = {c: self.names[c][v] for c, v in cols.items()}
        out.update({c: np.asarray(v, dtype=np.int64) for c, v in counts.items()})
        return pd.DataFrame(out)

    def place(self) -> tuple[list[int], list[np.ndarray]]:
        """Sizes and codes of (day, zone, source)."""
        n = self.n
        return [n["day"], n["zone"], n["src"]], [self.day, self.zone, self.src]


def _dept_zone(r: _Rows, people: np.ndarray) -> dict[str, pd.DataFrame]:
    sizes, cols = r.place()
    (d, z, s, e), buckets, psum = _unique_counts(
        Keys([*sizes, r.n["dept"]]), [*cols, r.dept], people.astype(np.float64)
    )
    dept = r.frame(
        {"day": d, "zone_id": z, "source": s, "department_id": e},
        buckets=buckets,
        people_buckets=psum if psum is not None else buckets,
    )
    cells = Keys([*sizes, r.bucket.max(initial=0) + 1])
    distinct = sorted_unique(cells.pack([*cols, r.bucket]))
    d, z, s, _b = cells.unpack(distinct)
    (d, z, s), n, _ = _unique_counts(Keys(sizes), [d, z, s])
    zone = r.frame({"day": d, "zone_id": z, "source": s}, buckets=n)
    return {"analytics_coloc_dept": dept, "analytics_coloc_zone": zone}


def _pairs(r: _Rows, g: _Groups) -> pd.DataFrame:
    sizes, cols = r.place()
    a, b = g.partners(np.arange(len(r.day)))
    ne = r.n["dept"]
    (d, z, s, da, db), n, _ = _unique_counts(
        Keys([*sizes, ne, ne]), [*(c[a] for c in cols), r.dept[a], r.dept[b]]
    )
    return r.frame(
        {"day": d, "zone_id": z, "source": s, "department_a": da, "department_b": db},
        buckets=n,
    )


def _badges(r: _Rows, g: _Groups, badges: pd.Series) -> dict[str, pd.DataFrame]:
    """analytics_coloc_badges (per zone) and analytics_coloc_badges_site."""
    row, code, uniq = _explode(badges)
    sizes, cols = r.place()
    ne, nb = r.n["dept"], len(uniq)
    # Distinct (row's zone and bucket, department, badge): a badge listed
    # twice in a group counts once.
    cell = Keys([*sizes, r.bucket.max(initial=0) + 1, ne, nb])
    key = cell.pack([*(c[row] for c in cols), r.bucket[row], r.dept[row], code])
    _u, first = np.unique(key, return_index=True)
    row, code = row[first], code[first]
    i, partner = g.partners(row)
    pair = Keys([*sizes, ne, ne, nb])
    key = pair.pack(
        [*(c[row[i]] for c in cols), r.dept[row[i]], r.dept[partner], code[i]]
    )
    d, z, s, da, db, bd = pair.unpack(sorted_unique(key))
    names = {**r.names, "badge": uniq}
    zoned = pd.DataFrame(
        {
            "day": names["day"][d],
            "zone_id": names["zone_id"][z],
            "source": names["source"][s],
            "department_a": names["department_a"][da],
            "department_b": names["department_b"][db],
            "badge": uniq[bd],
        }
    )
    site_keys = Keys([sizes[0], sizes[2], ne, ne, nb])
    d, s, da, db, bd = site_keys.unpack(
        sorted_unique(site_keys.pack([d, s, da, db, bd]))
    )
    site = pd.DataFrame(
        {
            "day": names["day"][d],
            "source": names["source"][s],
            "department_a": names["department_a"][da],
            "department_b": names["department_b"][db],
            "badge": uniq[bd],
        }
    )
    return {"analytics_coloc_badges": zoned, "analytics_coloc_badges_site": site}


def daily_counts(presence: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frames of :func:`analytics.colocation.colocation_daily` (same
    columns, rows, order and dtypes as its pandas formulation)."""
    p = presence.reset_index(drop=True)
    r = _Rows(p)
    sizes, cols = r.place()
    g = _Groups(Keys([*sizes, r.bucket.max(initial=0) + 1]).pack([*cols, r.bucket]))
    out = _dept_zone(r, p["people"].to_numpy())
    out["analytics_coloc_pairs"] = _pairs(r, g)
    out.update(_badges(r, g, p["badges"]))
    return out
