"""Live state of every space straight from the raw events and device health
(the rollups may not have been computed yet): the one live reader, behind the
API's ``/live`` endpoint, the webhooks' ``space.state`` events and the
dashboard's "Now" panel and live floor map (all through
``analytics.api.read_live``).

:func:`live_spaces` is the pure core (frames in, frame out); :func:`read_live`
does the one query. An assigned desk (one person's) is never shown live: its
state is ``private`` with no since, people or last_seen (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from analytics.db_io import read_metadata
from analytics.read_common import settings_or_default
from occupancy.db import Connection, read_frame
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["LIVE_COLUMNS", "LOOKBACK", "live_spaces", "read_live"]

#: Columns of :func:`read_live`, in order.
LIVE_COLUMNS = (
    "space_id",  # desk or room
    "kind",  # desk, meeting_room, focus_room, phone_booth
    "zone_id",
    "floor_id",
    "state",  # occupied, vacant, unknown, or private (an assigned desk)
    "since",  # when the current state began (UTC; at most LOOKBACK back)
    "people",  # head count for counters, else null
    "last_seen",  # last occupancy event of the space (UTC)
)

#: How far back the events are read; a state older than this has ``since`` =
#: the first event inside the window.
LOOKBACK = dt.timedelta(hours=24)

# Per space: the latest occupancy event, the first event of the current run of
# equal states (since), and whether a device covering it says it is offline.
_LAST_SQL = """
WITH ev AS (
    SELECT COALESCE(e.space_id, d.space_id) AS space_id, e.ts, e.kind, e.value
      FROM sensor_events e LEFT JOIN devices d USING (device_id)
     WHERE e.ts > %(lo)s AND e.ts <= %(now)s
       AND e.kind IN ('presence', 'heartbeat', 'count')
), ranked AS (
    SELECT space_id, ts, value > 0 AS occ,
           first_value(value > 0) OVER w AS cur_occ,
           first_value(ts) OVER w AS cur_ts,
           first_value(value) OVER w AS cur_value,
           first_value(kind) OVER w AS cur_kind
      FROM ev WHERE space_id IS NOT NULL
    WINDOW w AS (PARTITION BY space_id ORDER BY ts DESC)
), other AS (
    SELECT space_id, max(ts) FILTER (WHERE occ IS DISTINCT FROM cur_occ) AS last_other
      FROM ranked GROUP BY space_id
)
SELECT r.space_id, max(r.cur_ts) AS last_seen, max(r.cur_value) AS value,
       max(r.cur_kind) AS event_kind,
       min(r.ts) FILTER (WHERE o.last_other IS NULL OR r.ts > o.last_other) AS since
  FROM ranked r JOIN other o USING (space_id)
 GROUP BY r.space_id
"""

_OFFLINE_SQL = """
SELECT d.space_id, max(h.updated_at) AS offline_at
  FROM device_health h JOIN devices d USING (device_id)
 WHERE h.online IS FALSE AND d.space_id IS NOT NULL
 GROUP BY d.space_id
"""


def live_spaces(
    spaces: pd.DataFrame,
    last: pd.DataFrame,
    offline: pd.DataFrame,
    now: dt.datetime,
    timeout: dt.timedelta,
) -> pd.DataFrame:
    """The live state per space (columns :data:`LIVE_COLUMNS`).

    ``spaces``: space_id, kind, zone_id, floor_id (and ``assigned``: an
    assigned desk is ``private``, with no since, people or last_seen). ``last``: space_id,
    last_seen, value, event_kind, since (per space with events). ``offline``:
    space_id, offline_at (spaces with a device reporting offline).
    A space is unknown without events, when its last event is older than
    ``timeout`` (a zero count holds: counters only report changes), when its
    last event says unknown, or when a covering device is offline.
    """
    out = spaces[["space_id", "kind", "zone_id", "floor_id"]].merge(
        last, on="space_id", how="left"
    )
    out = out.merge(offline, on="space_id", how="left")
    seen = pd.to_datetime(out["last_seen"], utc=True)
    since = pd.to_datetime(out["since"], utc=True)
    off_at = pd.to_datetime(out["offline_at"], utc=True)
    value = pd.to_numeric(out["value"], errors="coerce")
    now_ts = pd.Timestamp(now)
    fresh = (now_ts - seen) <= pd.Timedelta(timeout)
    is_count = (out["event_kind"] == "count").to_numpy()
    holds = is_count & (value == 0).to_numpy()
    silent = ~(fresh.to_numpy() | holds) & seen.notna().to_numpy()
    offline_now = off_at.notna().to_numpy() & ~(seen > off_at).to_numpy()
    known = value.notna().to_numpy() & ~silent & ~offline_now
    state = np.where(~known, "unknown", np.where(value > 0, "occupied", "vacant"))
    # Series.where keeps the UTC datetimes (np.where would box each one).
    unknown_since = off_at.where(
        offline_now, (seen + pd.Timedelta(timeout)).where(silent, since)
    )
    out["state"] = state
    out["since"] = since.where(known, unknown_since)
    out["people"] = np.where(known & is_count, value, np.nan)
    out["last_seen"] = seen
    if "assigned" in spaces.columns:
        mine = spaces["assigned"].fillna(False).astype(bool).to_numpy()
        if mine.any():
            out.loc[mine, "state"] = "private"
            out.loc[mine, ["since", "last_seen"]] = pd.NaT
            out.loc[mine, "people"] = np.nan
    return out[list(LIVE_COLUMNS)].reset_index(drop=True)


def read_live(
    conn: Connection,
    now: dt.datetime,
    *,
    settings: Settings | None = None,
    spaces: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Live state of every desk and room at ``now`` (UTC) from the raw events
    of the last :data:`LOOKBACK` and ``device_health`` (assigned desks
    ``private``); columns
    :data:`LIVE_COLUMNS`, ordered by space_id. Head counts are sensor counts
    of one space, not people records: nothing here identifies anyone.
    ``spaces`` (space_id, kind, zone_id, floor_id, assigned): the building's
    spaces when the caller holds them already, else read here."""
    settings = settings_or_default(settings)
    timeout = dt.timedelta(minutes=settings.heartbeat_timeout_min)
    last = read_frame(conn, _LAST_SQL, {"lo": now - LOOKBACK, "now": now})
    if last.empty:
        last = pd.DataFrame(
            columns=["space_id", "last_seen", "value", "event_kind", "since"]
        )
    offline = read_frame(conn, _OFFLINE_SQL)
    if offline.empty:
        offline = pd.DataFrame(columns=["space_id", "offline_at"])
    if spaces is None:
        spaces, _ = read_metadata(conn)
    return live_spaces(spaces, last, offline, now, timeout)
