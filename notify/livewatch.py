"""space.state events: the live state (:func:`analytics.live.read_live`)
compared with what was last announced (``notify_space_state``), debounced.

:func:`state_changes` is the pure core; :func:`watch_once` does the I/O.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd

from analytics.api import read_live
from notify.webhooks import enqueue
from occupancy.db import Connection, Cursor
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["state_changes", "watch_once"]


def state_changes(
    announced: pd.DataFrame, live: pd.DataFrame, now: dt.datetime, debounce_s: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(changes to announce, spaces seen for the first time).

    ``announced``: space_id, state (last announced). ``live``: the
    :data:`analytics.live.LIVE_COLUMNS` frame. A space whose live state
    differs from the announced one is announced once its state has held for
    ``debounce_s`` (since ≤ now − debounce_s): a state that flips back within
    that time is never announced. Changes carry previous_state. Spaces not yet
    in ``announced`` are returned apart (recorded silently, no flood of events
    at the first start)."""
    m = live.merge(
        announced[["space_id", "state"]].rename(columns={"state": "previous_state"}),
        on="space_id",
        how="left",
    )
    new = m[m["previous_state"].isna()]
    since = pd.to_datetime(m["since"], utc=True)
    stable = since.isna() | (
        since <= pd.Timestamp(now) - pd.Timedelta(seconds=debounce_s)
    )
    changed = m["previous_state"].notna() & (m["state"] != m["previous_state"]) & stable
    return m[changed].reset_index(drop=True), new.drop(columns="previous_state")


def _payload(row: Any, now: dt.datetime) -> dict[str, Any]:
    def iso(v: Any) -> str | None:
        return None if pd.isna(v) else pd.Timestamp(v).isoformat()

    people = None if pd.isna(row.people) else float(row.people)
    return {
        "space_id": row.space_id,
        "kind": row.kind,
        "zone_id": row.zone_id,
        "floor_id": row.floor_id,
        "state": row.state,
        "previous_state": row.previous_state,
        "since": iso(row.since),
        "people": people,
        "at": now.isoformat(),
    }


def _upsert(cur: Cursor, frame: pd.DataFrame) -> None:
    rows: list[Any] = list(frame.itertuples(index=False))
    for r in rows:
        cur.execute(
            "INSERT INTO notify_space_state (space_id, state, people, since)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (space_id) DO UPDATE SET"
            " state = EXCLUDED.state, people = EXCLUDED.people,"
            " since = EXCLUDED.since, updated_at = now()",
            (
                r.space_id,
                r.state,
                None if pd.isna(r.people) else float(r.people),
                None if pd.isna(r.since) else pd.Timestamp(r.since).to_pydatetime(),
            ),
        )


def watch_once(
    conn: Connection, settings: Settings, now: dt.datetime | None = None
) -> int:
    """One round: read the live state, queue space.state events for the
    debounced changes (in order of since), record them; return the changes."""
    now = now or dt.datetime.now(dt.UTC)
    live = read_live(conn, now, settings=settings)
    with conn.cursor() as cur:
        cur.execute("SELECT space_id, state FROM notify_space_state")
        announced = pd.DataFrame(cur.fetchall(), columns=["space_id", "state"])
    changes, new = state_changes(announced, live, now, settings.webhook_debounce_s)
    changes = changes.sort_values(["since", "space_id"], kind="stable")
    rows: list[Any] = list(changes.itertuples())
    with conn.cursor() as cur:
        _upsert(cur, new)
        _upsert(cur, changes)
        enqueue(
            conn,
            [("space.state", str(r.space_id), _payload(r, now)) for r in rows],
        )
    conn.commit()
    if len(changes):
        logger.info("space.state: %d change(s) queued", len(changes))
    return len(changes)
