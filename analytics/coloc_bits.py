"""Badge bitmaps of the co-location cells (migration 0210). I/O and packing.

:func:`analytics.colocation.colocation_daily` gives the distinct badges
behind each cell as one row per badge (frames ``analytics_coloc_badges`` and
``analytics_coloc_badges_site``). They are stored as one row per cell holding
a bitmap of the badges' integer codes (``analytics_badge_codes``, a stable
dictionary: a badge keeps its code), so a year is ~100 k rows instead of
~16 M. Readers union bitmaps with ``bit_or`` and count with ``bit_count``:
exact distinct counts over any days and zones. Bit n (leftmost = 0) is the
badge of code n; bitmaps of one table may differ in length (the dictionary
grows), so readers cast them to :func:`width` bits (``bit(n)`` pads with
zeros on the right).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from psycopg2 import sql

from occupancy.db import Connection, Cursor

__all__ = ["BIT_TABLES", "as_bitmaps", "bits_cast", "decoded", "width"]

#: Frame of :func:`analytics.colocation.colocation_daily` -> bitmap table.
BIT_TABLES = {
    "analytics_coloc_badges": "analytics_coloc_bits",
    "analytics_coloc_badges_site": "analytics_coloc_bits_site",
}


def _codes(conn: Connection, badges: np.ndarray) -> dict[str, int]:
    """The code of every badge of ``badges`` (unique), new ones added in
    their sorted order. Own short transaction: parallel writers wait for each
    other only for this insert, not for their whole chunk. Concurrent
    writers: ON CONFLICT waits for the other's uncommitted insert of a badge
    and keeps its code (sorted inserts: no deadlock); only badges not yet
    coded are inserted, as an identity value is drawn for every row offered
    (a conflict's is lost: re-offering known badges on every run would widen
    the bitmaps of new badges)."""
    names = sorted(str(b) for b in badges)
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO analytics_badge_codes (badge)"
            " SELECT b FROM unnest(%s::text[]) AS u(b) WHERE NOT EXISTS"
            " (SELECT 1 FROM analytics_badge_codes c WHERE c.badge = u.b)"
            " ORDER BY b ON CONFLICT (badge) DO NOTHING",
            (names,),
        )
        cur.execute(
            "SELECT badge, code FROM analytics_badge_codes WHERE badge = ANY(%s)",
            (names,),
        )
        return {str(b): int(c) for b, c in cur.fetchall()}


def _runs(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_cells` when every cell's rows are adjacent (colocation_daily
    gives them sorted): runs of equal keys, checked to be distinct cells;
    None when a cell's rows are not adjacent."""
    change = np.zeros(len(frame), dtype=bool)
    change[0] = True
    for k in keys:
        col = frame[k].to_numpy()
        change[1:] |= col[1:] != col[:-1]
    first = np.flatnonzero(change)
    if frame[keys].iloc[first].duplicated().any():
        return None
    return np.cumsum(change) - 1, first


def _cells(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(group of every row, first row of every group) of ``frame`` by
    ``keys`` (hash factorization: groups in no particular order)."""
    runs = _runs(frame, keys)
    if runs is not None:
        return runs
    group = np.zeros(len(frame), dtype=np.int64)
    for k in keys:
        codes, uniq = pd.factorize(frame[k])
        if (int(group.max(initial=0)) + 1) * (len(uniq) + 1) >= 1 << 62:
            group = np.unique(group, return_inverse=True)[1].reshape(-1)
        group = group * len(uniq) + codes
    _u, first, group = np.unique(group, return_index=True, return_inverse=True)
    return group.reshape(-1), first


def _hex_bits(out: np.ndarray) -> pd.Series:
    """Rows of byte matrix ``out`` as bit-string input ``X<hex>`` (Arrow
    strings over one buffer: no Python object per row)."""
    n, nbytes = out.shape
    text = np.empty((n, 1 + 2 * nbytes), dtype=np.uint8)
    text[:, 0] = ord("X")
    hexed = np.frombuffer(out.tobytes().hex().encode("ascii"), dtype=np.uint8)
    text[:, 1:] = hexed.reshape(n, 2 * nbytes)
    offsets = np.arange(n + 1, dtype=np.int32) * text.shape[1]
    arr = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    )
    return pd.Series(arr, dtype=pd.ArrowDtype(pa.string()))


def _pack(frame: pd.DataFrame, codes: dict[str, int]) -> pd.DataFrame:
    """One row per cell (every column but ``badge``) with ``bits``: the
    bitmap of its badges' codes as hex bit-string input (``X...``), as wide
    as the largest code of ``codes`` (whole bytes)."""
    keys = [c for c in frame.columns if c != "badge"]
    inverse, names = pd.factorize(frame["badge"])
    code = np.array([codes[str(b)] for b in names], dtype=np.int64)[inverse]
    group, first = _cells(frame, keys)
    cells = frame[keys].iloc[first].reset_index(drop=True)
    nbytes = (max(codes.values()) >> 3) + 1
    key = group * nbytes + (code >> 3)
    value = (np.uint8(128) >> (code & 7).astype(np.uint8)).astype(np.uint8)
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    out = np.zeros(len(cells) * nbytes, dtype=np.uint8)
    out[key[starts]] = np.bitwise_or.reduceat(value, starts)
    cells["bits"] = _hex_bits(out.reshape(len(cells), nbytes))
    return cells


def as_bitmaps(
    conn: Connection, frames: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """``frames`` with the per-badge frames of :data:`BIT_TABLES` replaced by
    their bitmap tables' rows (codes assigned on ``conn``)."""
    present = [t for t in BIT_TABLES if t in frames]
    if not present:
        return frames
    out = {t: f for t, f in frames.items() if t not in BIT_TABLES}
    badges = pd.unique(
        np.concatenate([frames[t]["badge"].to_numpy(dtype=object) for t in present])
    )
    codes = _codes(conn, badges) if len(badges) else {}
    for t in present:
        f = frames[t]
        if len(f):
            out[BIT_TABLES[t]] = _pack(f, codes)
    return out


def width(cur: Cursor) -> int:
    """Bits every stored bitmap fits in: one past the largest code."""
    cur.execute("SELECT COALESCE(MAX(code), 0) + 1 FROM analytics_badge_codes")
    row = cur.fetchone()
    return int(row[0]) if row else 1


def bits_cast(cur: Cursor, column: str = "bits") -> sql.Composable:
    """``column`` cast to one width (:func:`width`), as ``bit_or`` needs."""
    return sql.SQL("{}::bit({})").format(sql.SQL(column), sql.Literal(width(cur)))


_DECODED = {
    "analytics_coloc_bits": "SELECT t.day, t.zone_id, t.source, t.department_a,"
    " t.department_b, c.badge FROM analytics_coloc_bits t"
    " JOIN analytics_badge_codes c ON c.code < length(t.bits)"
    " AND get_bit(t.bits, c.code) = 1",
    "analytics_coloc_bits_site": "SELECT t.day, t.source, t.department_a,"
    " t.department_b, t.site_id, c.badge FROM analytics_coloc_bits_site t"
    " JOIN analytics_badge_codes c ON c.code < length(t.bits)"
    " AND get_bit(t.bits, c.code) = 1",
    "analytics_coloc_week_bits": "SELECT t.week, t.source, t.department_a,"
    " t.department_b, c.badge FROM analytics_coloc_week_bits t"
    " JOIN analytics_badge_codes c ON c.code < length(t.bits)"
    " AND get_bit(t.bits, c.code) = 1",
}


def decoded(table: str) -> str:
    """A SELECT of bitmap ``table`` as one row per badge (its key columns,
    then ``badge``), as the per-badge tables held before migration 0210: for
    checks and tests (slow on a year)."""
    if table not in _DECODED:
        raise ValueError(
            f"not a badge bitmap table: {table!r} (one of {sorted(_DECODED)})"
        )
    return _DECODED[table]
