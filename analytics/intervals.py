"""State intervals of every space as the analytics see them after their rules
(gap bridging, stuck sensors, heartbeat timeout): the ``intervals`` export,
for analysts' own tools (hillmaker, R, Power BI).

:func:`export_intervals` is pure (the rule chain's output in, the export frame
out); :func:`read_intervals` reads the events and runs the same rule chain as
``occupancy analyze`` (:func:`analytics.sessions.space_intervals`).
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from analytics.db_io import event_day_range, read_events, read_metadata
from analytics.filters import Filters
from analytics.read_common import calendar_for, filtered_spaces, settings_or_default
from analytics.sessions import space_intervals
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["INTERVAL_EXPORT_COLUMNS", "export_intervals", "read_intervals"]

INTERVAL_EXPORT_COLUMNS = (
    "space_id", "kind", "zone_id", "floor_id", "start", "end", "state", "people",
)  # fmt: skip

# The same context of events around the range as the pipeline reads.
_CONTEXT = pd.Timedelta(days=1)


def export_intervals(
    iv: pd.DataFrame, spaces: pd.DataFrame, start_s: float, end_s: float
) -> pd.DataFrame:
    """Every space's timeline over [start_s, end_s) [epoch s]: the known
    intervals of ``iv`` (space_id, start, end [s], value, is_count; stuck runs
    already removed) clipped to the range, and the time between them as
    ``unknown``. ``spaces``: space_id, kind, zone_id, floor_id (every space
    gets rows, one ``unknown`` interval when it has no data). ``people`` is the
    head count of counters, empty for presence sensors and unknown time."""
    iv = iv[iv["space_id"].isin(set(spaces["space_id"]))]
    s = np.clip(iv["start"].to_numpy(float), start_s, end_s)
    e = np.clip(iv["end"].to_numpy(float), start_s, end_s)
    keep = e > s
    known = pd.DataFrame(
        {
            "space_id": iv["space_id"].to_numpy(object)[keep],
            "start": s[keep],
            "end": e[keep],
            "state": np.where(iv["value"].to_numpy()[keep] > 0, "occupied", "vacant"),
            "people": np.where(
                iv["is_count"].to_numpy(bool)[keep],
                iv["value"].to_numpy()[keep],
                np.nan,
            ),
        }
    ).sort_values(["space_id", "start"], kind="stable")
    # Gaps: from each interval's end (or the range start) to the next start.
    ids = spaces["space_id"].to_numpy(object)
    sp = known["space_id"].to_numpy(object)
    ks, ke = known["start"].to_numpy(), known["end"].to_numpy()
    first = np.r_[True, sp[1:] != sp[:-1]] if len(sp) else np.zeros(0, bool)
    prev_end = np.where(first, start_s, np.r_[start_s, ke[:-1]])
    last = np.r_[sp[1:] != sp[:-1], True] if len(sp) else np.zeros(0, bool)
    no_data = np.setdiff1d(ids.astype(str), sp.astype(str))
    gaps = pd.DataFrame(
        {
            "space_id": np.r_[sp, sp[last], no_data].astype(object),
            "start": np.r_[prev_end, ke[last], np.full(len(no_data), start_s)],
            "end": np.r_[ks, np.full(int(last.sum()) + len(no_data), end_s)],
        }
    )
    gaps = gaps[gaps["end"] > gaps["start"]].assign(state="unknown", people=np.nan)
    out = pd.concat([known, gaps], ignore_index=True)
    out = out.sort_values(["space_id", "start"], kind="stable")
    out = out.merge(spaces[["space_id", "kind", "zone_id", "floor_id"]], on="space_id")
    for col in ("start", "end"):
        out[col] = pd.to_datetime(out[col], unit="s", utc=True).dt.round("ms")
    return out[list(INTERVAL_EXPORT_COLUMNS)].reset_index(drop=True)


def read_intervals(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """The intervals export over local days ``start``..``end`` (both
    included): columns :data:`INTERVAL_EXPORT_COLUMNS`, times UTC. Every hour
    of the day (working hours do not apply: a state is a state). Time after
    the last local day with data is unknown, as for the rollups."""
    from analytics.calendar import local_days_utc_range
    from analytics.pipeline import AnalyzeParams

    settings = settings_or_default(settings)
    params = AnalyzeParams.from_settings(settings)
    cal = calendar_for(conn, settings)
    lo, hi = local_days_utc_range(cal, start, end)
    spaces, zones = read_metadata(conn)
    known_ids = list(spaces["space_id"]) + list(zones["zone_id"])
    events = read_events(conn, lo - _CONTEXT, hi + _CONTEXT, known=known_ids)
    iv, _stuck = space_intervals(
        events,
        heartbeat_timeout_s=params.heartbeat_timeout_s,
        gap_bridge_s=params.gap_bridge_s,
        stuck_s=params.stuck_s,
        horizon_s=float((hi + _CONTEXT).value) / 1e9,
    )
    # ``occupancy analyze`` computes no day after the last day with data, so a
    # state (a zero count holds) does not run on past its end either.
    _first_day, last_day = event_day_range(conn, cal.timezone)
    if last_day is not None:
        _lo, data_end = local_days_utc_range(cal, last_day, last_day)
        iv = iv.assign(end=np.minimum(iv["end"].to_numpy(), data_end.value / 1e9))
    keep = filtered_spaces(spaces, filters)
    return export_intervals(iv, keep, lo.value / 1e9, hi.value / 1e9)
