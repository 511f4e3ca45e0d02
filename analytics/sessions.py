"""Sessions: presence intervals per space from state changes, heartbeats and counts.

Rules (see docs/metrics.md):

- An event states the space's value from its ``ts`` until the next event of the
  same space, but at most ``heartbeat_timeout_s`` after it: a sensor silent for
  longer has *unknown* state (no interval), never occupied. A zero count holds
  until the next count (counters publish only on change while empty).
- Events are ordered by ``ts`` (event time), so late and out-of-order arrivals
  land where they belong; duplicates at the same instant keep one.
- Vacant gaps shorter than ``gap_bridge_s`` between two occupied intervals of a
  presence sensor count as occupied.
- An occupied run of a presence sensor longer than ``stuck_s`` is a stuck
  sensor: it is excluded (unknown) and reported as data quality.

Times inside this package are float epoch seconds [s] (``start``, ``end``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "INTERVAL_COLUMNS",
    "bridge_gaps",
    "detect_stuck",
    "merge_runs",
    "sessions",
    "space_intervals",
    "state_intervals",
    "to_seconds",
]

#: Columns of an interval frame: space, [start, end) [s], value (1/0 presence
#: or people), is_count (from a counter, not a presence sensor).
INTERVAL_COLUMNS = ["space_id", "start", "end", "value", "is_count"]

_KIND_RANK = {"heartbeat": 0, "presence": 1, "count": 2}


def to_seconds(ts: pd.Series) -> np.ndarray:
    """Timezone-aware timestamps → float epoch seconds [s]."""
    s = pd.to_datetime(ts, utc=True)
    return (s - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "space_id": pd.Series(dtype=object),
            "start": pd.Series(dtype=float),
            "end": pd.Series(dtype=float),
            "value": pd.Series(dtype=float),
            "is_count": pd.Series(dtype=bool),
        }
    )


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) as ``pd.factorize(values.astype(str), sort=True)``
    (no missing values); a categorical (as :func:`analytics.db_io.read_events`
    returns) is recoded from its categories without touching every string."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        raw = values.cat.codes.to_numpy()
        # The codes present, sorted (a count per code: no sort, no hashing).
        used = np.flatnonzero(np.bincount(raw.astype(np.int64) + 1)) - 1
        names = np.asarray(values.cat.categories.astype(str), dtype=object)[used]
        order = np.argsort(names, kind="stable")
        remap = np.empty(len(values.cat.categories), dtype=np.int64)
        remap[used[order]] = np.arange(len(used))
        return remap[raw], names[order]
    code, uniques = pd.factorize(values.astype(str), sort=True)
    return code, np.asarray(uniques, dtype=object)


def state_intervals(
    events: pd.DataFrame, *, heartbeat_timeout_s: float, horizon_s: float
) -> pd.DataFrame:
    """Known-state intervals per space from ``events`` (columns ``ts``,
    ``space_id``, ``kind``, ``value``). ``horizon_s``: end of what is known [s]
    (the last event's state holds at most until then). Returns
    :data:`INTERVAL_COLUMNS`, sorted by space and start, adjacent equal values
    merged."""
    ev = events[events["kind"].isin(list(_KIND_RANK)) & events["space_id"].notna()]
    if len(ev) == 0:
        return _empty()
    # Integer codes for the space: sorting and comparing strings is the slow part.
    code, uniques = _sorted_codes(ev["space_id"])
    t_all = to_seconds(ev["ts"])
    kind_code, kinds = _sorted_codes(ev["kind"])
    rank = np.array([_KIND_RANK[str(k)] for k in kinds], dtype=np.int64)[kind_code]
    order = np.lexsort((rank, t_all, code))
    code, t = code[order], t_all[order]
    # Several events of a space at the same instant: the last in kind order wins.
    last = np.r_[(code[1:] != code[:-1]) | (t[1:] != t[:-1]), True]
    order, code, t = order[last], code[last], t[last]
    value = ev["value"].to_numpy(dtype=float)[order]
    is_count = (np.asarray(kinds, dtype=object) == "count")[kind_code][order]
    space = code
    same_next = np.r_[space[1:] == space[:-1], False]
    nxt = np.where(same_next, np.r_[t[1:], 0.0], horizon_s)
    nxt = np.minimum(nxt, horizon_s)
    holds = is_count & (value == 0)
    end = np.where(holds, nxt, np.minimum(nxt, t + heartbeat_timeout_s))
    keep = ~np.isnan(value) & (end > t)
    out = pd.DataFrame(
        {
            "space_id": np.asarray(uniques, dtype=object)[space[keep]],
            "start": t[keep],
            "end": end[keep],
            "value": value[keep],
            "is_count": is_count[keep],
        }
    )
    return merge_runs(out)


def merge_runs(iv: pd.DataFrame, *, on_occupied: bool = False) -> pd.DataFrame:
    """Merge touching intervals of a space with the same value (with
    ``on_occupied``: the same occupied/vacant state, keeping the first run's
    value). Input sorted by space and start."""
    if len(iv) == 0:
        return iv.reset_index(drop=True)
    space = iv["space_id"].to_numpy()
    start = iv["start"].to_numpy()
    end = iv["end"].to_numpy()
    key = (iv["value"].to_numpy() > 0) if on_occupied else iv["value"].to_numpy()
    new = np.ones(len(iv), dtype=bool)
    new[1:] = (
        (space[1:] != space[:-1]) | (key[1:] != key[:-1]) | (start[1:] != end[:-1])
    )
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, len(iv) - 1]
    out = iv.iloc[first].copy()
    out["end"] = end[last]
    out.index = np.arange(len(out))
    return out


def bridge_gaps(iv: pd.DataFrame, gap_bridge_s: float) -> pd.DataFrame:
    """Vacant intervals of presence sensors shorter than ``gap_bridge_s`` with an
    occupied interval right before and right after become occupied."""
    if len(iv) < 3 or gap_bridge_s <= 0:
        return iv
    space = iv["space_id"].to_numpy()
    start = iv["start"].to_numpy()
    end = iv["end"].to_numpy()
    value = iv["value"].to_numpy().copy()
    is_count = iv["is_count"].to_numpy()
    prev_ok = np.zeros(len(iv), dtype=bool)
    next_ok = np.zeros(len(iv), dtype=bool)
    prev_ok[1:] = (space[1:] == space[:-1]) & (end[:-1] == start[1:]) & (value[:-1] > 0)
    next_ok[:-1] = (space[:-1] == space[1:]) & (start[1:] == end[:-1]) & (value[1:] > 0)
    bridge = (value == 0) & ~is_count & prev_ok & next_ok & (end - start < gap_bridge_s)
    if not bridge.any():
        return iv
    value[bridge] = 1.0
    out = iv.copy()
    out["value"] = value
    return merge_runs(out)


def detect_stuck(iv: pd.DataFrame, stuck_s: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off occupied runs of presence sensors longer than ``stuck_s``.
    Returns (intervals without them, the stuck runs)."""
    dur = iv["end"] - iv["start"]
    stuck = (iv["value"] > 0) & ~iv["is_count"] & (dur > stuck_s)
    return iv[~stuck].reset_index(drop=True), iv[stuck].reset_index(drop=True)


def space_intervals(
    events: pd.DataFrame,
    *,
    heartbeat_timeout_s: float,
    gap_bridge_s: float,
    stuck_s: float,
    horizon_s: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole rule chain: state intervals → gap bridging → stuck removal.
    Returns (clean intervals, stuck runs)."""
    iv = state_intervals(
        events, heartbeat_timeout_s=heartbeat_timeout_s, horizon_s=horizon_s
    )
    iv = bridge_gaps(iv, gap_bridge_s)
    return detect_stuck(iv, stuck_s)


def sessions(iv: pd.DataFrame) -> pd.DataFrame:
    """Occupied sessions: maximal runs of occupied intervals per space.
    Columns space_id, start, end [s], duration_s, end_reason (``vacant`` when a
    vacant state follows, else ``unknown``)."""
    if len(iv) == 0:
        return pd.DataFrame(
            {
                "space_id": pd.Series(dtype=object),
                "start": pd.Series(dtype=float),
                "end": pd.Series(dtype=float),
                "duration_s": pd.Series(dtype=float),
                "end_reason": pd.Series(dtype=object),
            }
        )
    merged = merge_runs(iv, on_occupied=True)
    space = merged["space_id"].to_numpy()
    nxt_vacant = np.zeros(len(merged), dtype=bool)
    nxt_vacant[:-1] = (
        (space[1:] == space[:-1])
        & (merged["start"].to_numpy()[1:] == merged["end"].to_numpy()[:-1])
        & (merged["value"].to_numpy()[1:] == 0)
    )
    merged["end_reason"] = np.where(nxt_vacant, "vacant", "unknown")
    occ = merged[merged["value"] > 0]
    out = occ[["space_id", "start", "end", "end_reason"]].copy()
    out.insert(3, "duration_s", out["end"] - out["start"])
    return out.reset_index(drop=True)
