"""analytics.live.live_spaces on hand-built frames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.live import LIVE_COLUMNS, live_spaces

NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)


def ts(minutes_ago: float) -> pd.Timestamp:
    return pd.Timestamp(NOW - dt.timedelta(minutes=minutes_ago))


def test_live_spaces_states_since_people() -> None:
    spaces = pd.DataFrame({
        "space_id": ["a", "b", "c", "d", "e", "r"],
        "kind": ["desk", "desk", "meeting_room", "desk", "desk", "meeting_room"],
        "zone_id": "z", "floor_id": "f",
    })  # fmt: skip
    last = pd.DataFrame({
        "space_id": ["a", "b", "c", "e", "r"],
        "last_seen": [ts(2), ts(30), ts(120), ts(5), ts(1)],
        "value": [1.0, 1.0, 0.0, 0.0, 3.0],
        "event_kind": ["heartbeat", "presence", "count", "heartbeat", "count"],
        "since": [ts(40), ts(30), ts(120), ts(60), ts(10)],
    })  # fmt: skip
    offline = pd.DataFrame({"space_id": ["e"], "offline_at": [ts(3)]})
    out = live_spaces(spaces, last, offline, NOW, dt.timedelta(minutes=20))
    assert list(out.columns) == list(LIVE_COLUMNS)
    by = out.set_index("space_id")
    # a: fresh heartbeat, occupied since its first occupied event.
    assert by.loc["a", "state"] == "occupied" and by.loc["a", "since"] == ts(40)
    # b: silent 30 min > 20 min: unknown since last event + timeout.
    assert by.loc["b", "state"] == "unknown" and by.loc["b", "since"] == ts(10)
    # c: a zero count holds however old.
    assert by.loc["c", "state"] == "vacant" and by.loc["c", "people"] == 0.0
    # d: no events at all.
    assert by.loc["d", "state"] == "unknown" and pd.isna(by.loc["d", "since"])
    # e: its device went offline after its last event.
    assert by.loc["e", "state"] == "unknown" and by.loc["e", "since"] == ts(3)
    # r: a counter with people; desks carry no people.
    assert by.loc["r", "state"] == "occupied" and by.loc["r", "people"] == 3.0
    assert np.isnan(by.loc["a", "people"])
