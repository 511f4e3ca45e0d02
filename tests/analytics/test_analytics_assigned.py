"""The assigned-desk rule: a desk marked ``assigned: true`` belongs to one
person and is never reported alone; a group holding one is reported only when
it has at least k desks (analytics.privacy.protect_assigned)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics import store
from analytics.pipeline import run_analyze
from analytics.privacy import assigned_guard, protect_assigned
from analytics.reports import build_report
from occupancy.db import connect, copy_rows
from occupancy.settings import load_settings

TZ = "Europe/Amsterdam"


def _spaces() -> pd.DataFrame:
    # Z1: 3 desks (a1 assigned); Z2: 6 desks (b1 assigned); Z3: 2 desks, none
    # assigned; one room in Z1. All on floor F (11 desks).
    rows = [("a1", "Z1", True), ("a2", "Z1", False), ("a3", "Z1", False)]
    rows += [(f"b{i}", "Z2", i == 1) for i in range(1, 7)]
    rows += [("c1", "Z3", False), ("c2", "Z3", False)]
    frame = pd.DataFrame(rows, columns=["space_id", "zone_id", "assigned"])
    frame["kind"] = "desk"
    room = pd.DataFrame([("r1", "Z1", False, "meeting_room")], columns=[*frame.columns])
    frame = pd.concat([frame, room], ignore_index=True)
    return frame.assign(floor_id="F", building_id="B", site_id="S", department_id=None)


def test_guard_hand_worked() -> None:
    mine, groups = assigned_guard(_spaces(), k=5)
    assert mine == {"a1", "b1"}
    # Z1 has 3 desks with an assigned one: hidden. Z2 has 6: shown. Z3 has
    # no assigned desk: shown. The floor, building (11 desks): shown.
    assert groups == {("zone", "Z1")}
    # With k = 7 Z2 (6 desks) hides too; the floor (11) still shows.
    assert assigned_guard(_spaces(), k=7)[1] == {("zone", "Z1"), ("zone", "Z2")}
    # Without assigned desks nothing is hidden.
    none = _spaces().assign(assigned=False)
    assert assigned_guard(none, k=5) == (set(), set())


def test_protect_assigned_suppresses_rows_not_keys() -> None:
    frame = pd.DataFrame(
        {
            "level": ["space", "space", "zone", "zone", "floor"],
            "level_id": ["a1", "a2", "Z1", "Z2", "F"],
            "utilization_pct": [50.0, 40.0, 30.0, 20.0, 10.0],
            "band": ["under", "under", "under", "under", "under"],
        }
    )
    got = protect_assigned(frame, _spaces(), k=5)
    want = pd.DataFrame(
        {
            "level": ["space", "space", "zone", "zone", "floor"],
            "level_id": ["a1", "a2", "Z1", "Z2", "F"],
            "utilization_pct": [np.nan, 40.0, np.nan, 20.0, 10.0],
            "band": [np.nan, "under", np.nan, "under", "under"],
            "suppressed": [True, False, True, False, False],
        }
    )
    pd.testing.assert_frame_equal(got, want)
    per_space = pd.DataFrame({"space_id": ["a1", "c1"], "occupied_s": [3600, 60]})
    got_s = protect_assigned(per_space, _spaces(), k=5)
    assert got_s["suppressed"].tolist() == [True, False]
    assert np.isnan(got_s["occupied_s"].iloc[0]) and got_s["occupied_s"].iloc[1] == 60


@pytest.mark.integration
def test_assigned_desk_never_reported_alone(database_url: str) -> None:
    """One desk of the example building marked assigned: its rows in the
    space-level utilization and hour-of-week exports and in sessions are
    suppressed, live state says private; with k above its zone's desk count
    the zone's rows are suppressed too, and the floor's are not."""
    settings = load_settings({"database_url": database_url})
    conn = connect(database_url)
    try:
        spaces = store.read_metadata(conn)[0]
        desks = spaces[spaces["kind"] == "desk"]
        zone = str(desks["zone_id"].iloc[0])
        mine, other = (str(s) for s in desks["space_id"].iloc[:2])
        n_zone = int((desks["zone_id"] == zone).sum())
        rows = []
        for i, desk in enumerate((mine, other)):
            for m in range(0, 120, 5):
                t = pd.Timestamp("2026-03-03 09:00", tz=TZ) + pd.Timedelta(minutes=m)
                rows.append(
                    (
                        t.tz_convert("UTC").to_pydatetime(),
                        f"ds-{desk}",
                        desk,
                        "presence",
                        1.0,
                        100 * i + m,
                    )
                )
        with conn, conn.cursor() as cur:
            copy_rows(
                cur,
                "sensor_events",
                ["ts", "device_id", "space_id", "kind", "value", "seq"],
                rows,
            )
            cur.execute(
                "UPDATE spaces SET assigned = true WHERE space_id = %s", (mine,)
            )
        run_analyze(conn, settings, progress=lambda m: None)
        day = dt.date(2026, 3, 3)

        util = build_report(
            conn, "utilization", day, day, level="space", settings=settings
        )
        row = util.set_index("level_id")
        assert bool(row.loc[mine, "suppressed"]) and np.isnan(
            row.loc[mine, "time_used_pct"]
        )
        assert not bool(row.loc[other, "suppressed"])
        assert row.loc[other, "time_used_pct"] > 0

        how = store.read_hour_of_week(conn, day, day, level="space", settings=settings)
        mine_rows = how[how["level_id"] == mine]
        assert len(mine_rows) and mine_rows["suppressed"].all()
        assert mine_rows["people_mean"].isna().all()
        assert not how[how["level_id"] == other]["suppressed"].any()

        ses = store.read_sessions(conn, day, day, settings=settings)
        assert ses[ses["space_id"] == mine]["suppressed"].all()
        assert ses[ses["space_id"] == mine]["occupied_s"].isna().all()

        now = pd.Timestamp("2026-03-03 10:00", tz=TZ).tz_convert("UTC").to_pydatetime()
        live = store.live_state(conn, now, settings=settings).set_index("space_id")
        assert live.loc[mine, "state"] == "private"
        assert live.loc[other, "state"] == "occupied"

        big_k = load_settings({"database_url": database_url, "k_anonymity": n_zone + 1})
        zones = build_report(
            conn, "utilization", day, day, level="zone", settings=big_k
        ).set_index("level_id")
        assert bool(zones.loc[zone, "suppressed"])
        floors = store.read_utilization(conn, day, day, level="floor", settings=big_k)
        # The floor holds more than k desks: shown.
        assert not floors.get("suppressed", pd.Series([False])).any()
        assert floors["time_used_pct"].notna().all() and len(floors) > 0
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE spaces SET assigned = false")
        conn.close()
