"""Page callbacks and their pure helpers, called as plain functions against the
real test database (example building loaded)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Any]:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    app = create_app(load_settings({"database_url": database_url}))
    yield app
    app.server.extensions["occupancy_dashboard"].close()


def page(name: str) -> ModuleType:
    from dashboard.app import page_module

    return page_module(name)


@pytest.fixture()
def ctx(app: Any) -> Iterator[None]:
    with app.server.test_request_context("/"):
        yield


def test_device_status_online_offline_never(app: Any) -> None:
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    devices = pd.DataFrame(
        {
            "device_id": ["a", "b", "c", "d"],
            "online": [True, True, False, None],
            "last_seen": [
                now - dt.timedelta(minutes=5),
                now - dt.timedelta(minutes=30),
                now - dt.timedelta(minutes=1),
                None,
            ],
        }
    )
    out = page("devices").device_status(devices, now, timeout_min=20.0)
    # b said online but was silent 30 min > 20 min: offline; c reported offline.
    assert out["status"].tolist() == ["online", "offline", "offline", "never"]
    assert out["silent_h"].tolist()[:3] == [
        pytest.approx(5 / 60, abs=0.01),
        0.5,
        pytest.approx(1 / 60, abs=0.01),
    ]


def test_band_counts_use_the_target_bands(app: Any) -> None:
    spaces = pd.DataFrame({"utilization_pct": [10.0, 59.9, 60.0, 100.0, 100.1, np.nan]})
    assert page("overview").band_counts(spaces, 60.0, 100.0) == {
        "under": 2,
        "optimal": 2,
        "over": 1,
    }


def test_live_by_floor_counts_free_desks_and_rooms(app: Any) -> None:
    spaces = pd.DataFrame(
        {
            "space_id": ["d1", "d2", "d3", "r1"],
            "kind": ["desk", "desk", "desk", "meeting_room"],
            "floor_id": ["f0", "f0", "f1", "f1"],
        }
    )
    live = pd.DataFrame(
        {"space_id": ["d1", "d2", "r1"], "state": ["free", "occupied", "free"]}
    )
    out = page("overview").live_by_floor(live, spaces).set_index("floor_id")
    # d3 has no live state: unknown, not free.
    assert out.loc["f0", ["free_desks", "desks", "free_rooms", "rooms"]].tolist() == [
        1,
        2,
        0,
        0,
    ]
    assert out.loc["f1", ["free_desks", "desks", "free_rooms", "rooms"]].tolist() == [
        0,
        1,
        1,
        1,
    ]


def test_now_counts_only_spaces_with_live_data(app: Any) -> None:
    ov = page("overview")
    spaces = pd.DataFrame(
        {
            "space_id": ["d1", "d2", "d3", "r1"],
            "kind": ["desk", "desk", "desk", "meeting_room"],
            "floor_id": ["f0", "f0", "f0", "f0"],
        }
    )
    live = pd.DataFrame(
        {
            "space_id": ["d1", "d2", "d3", "r1"],
            "state": ["free", "occupied", "unknown", "occupied"],
            "people": [0.0, 1.0, np.nan, 3.0],
        }
    )
    per_floor = ov.live_by_floor(live, spaces)
    assert per_floor[["measured_desks", "measured_rooms"]].iloc[0].tolist() == [2, 1]
    cards = ov.now_cards(live, per_floor, "en")
    values = [c.children[0].children for c in cards]
    # 1 + 3 people; 1 free of the 2 desks with data (d3 is not free); 0 / 1 rooms;
    # 1 space without recent data.
    assert values == ["4", "1 / 2", "0 / 1", "1"]


def test_now_without_live_data_says_since_when(app: Any) -> None:
    ov = page("overview")
    devices = pd.DataFrame({"last_seen": [pd.Timestamp("2026-11-08T16:55Z"), pd.NaT]})
    msg = ov.no_live_message(devices, "Europe/Amsterdam", "en")
    assert msg == "No live data: the last message arrived 2026-11-08 17:55 (site time)."
    nl = ov.no_live_message(devices.iloc[1:], "Europe/Amsterdam", "nl")
    assert nl == "Geen actuele data: nog geen enkel apparaat heeft iets gestuurd."


def test_period_summary_trend_in_points(app: Any) -> None:
    now = pd.DataFrame({"time_used_pct": [45.0], "utilization_pct": [30.0]})
    before = pd.DataFrame({"time_used_pct": [40.0], "utilization_pct": [np.nan]})
    assert page("overview").period_summary(now, before) == [
        ("time_used_pct", 45.0, 5.0),
        ("utilization_pct", 30.0, None),
    ]


def test_lift_matrix_never_reads_suppressed_values(app: Any) -> None:
    colo = pd.DataFrame(
        {
            "department_a": ["it", "it", "hr"],
            "department_b": ["hr", "sales", "sales"],
            "lift": [1.5, 99.0, 0.5],
            "suppressed": [False, True, False],
        }
    )
    lift, supp = page("collaboration").lift_matrices(colo, ["it", "hr", "sales"])
    assert lift[0, 1] == lift[1, 0] == 1.5
    assert np.isnan(lift[0, 2]) and supp[0, 2] and supp[2, 0]
    assert lift[1, 2] == 0.5
    fig = page("collaboration").matrix_figure(lift, supp, ["IT", "HR", "Sales"], "en")
    shown = fig.data[1].text
    assert shown[0][2] == "×" and "99" not in str(fig.to_json())


def test_hour_of_week_matrix_means_over_groups(app: Any) -> None:
    frame = pd.DataFrame(
        {
            "weekday": [0, 0, 4],
            "hour": [9, 9, 17],
            "utilization_pct": [20.0, 40.0, 10.0],
        }
    )
    m = page("patterns").hour_of_week_matrix(frame, "utilization_pct")
    assert m.shape == (7, 24)
    assert m.loc[0, 9] == 30.0 and m.loc[4, 17] == 10.0
    assert int(m.notna().sum().sum()) == 2


def test_weekly_trend_groups_by_monday(app: Any) -> None:
    daily = pd.DataFrame(
        {
            "day": ["2026-11-02", "2026-11-06", "2026-11-09"],
            "time_used_pct": [10.0, 30.0, 50.0],
        }
    )
    out = page("patterns").weekly_trend(daily, "time_used_pct")
    assert out["week"].tolist() == [dt.date(2026, 11, 2), dt.date(2026, 11, 9)]
    assert out["time_used_pct"].tolist() == [20.0, 50.0]


def test_rooms_summary_weights_by_the_right_time(app: Any) -> None:
    sizing = pd.DataFrame(
        {
            "occupied_s": [3600.0, 10800.0],
            "booked_s": [7200.0, 0.0],
            "half_or_less_pct": [100.0, 50.0],
            "no_show_pct": [40.0, np.nan],
            "unbooked_use_pct": [0.0, 20.0],
        }
    )
    # half: (100*1 + 50*3)/4 = 62.5 ; no-show: only room 1 was booked = 40 ;
    # unbooked: (0*1 + 20*3)/4 = 15
    assert page("rooms").rooms_summary(sizing) == {
        "half_or_less_pct": 62.5,
        "no_show_pct": 40.0,
        "unbooked_use_pct": 15.0,
    }


def test_floor_map_click_opens_space_history_with_filters(app: Any) -> None:
    click = {"points": [{"customdata": ["f1-it-d003", "desk"]}]}
    href = page("floor_map").open_space(
        click, "?site=hq&from=2026-11-02&to=2026-11-08&wh=1"
    )
    assert href == "/space?site=hq&from=2026-11-02&to=2026-11-08&wh=1&space=f1-it-d003"


def test_sync_filters_url_to_controls_and_back(app: Any, ctx: None) -> None:
    from dashboard.app import sync_filters

    out = sync_filters(
        "?site=hq&floor=f1&from=2026-11-02&to=2026-11-08&wh=0", [None] * 8, "app-url"
    )
    import dash

    # The URL is already canonical: left alone.
    assert out[0] is dash.no_update
    assert out[1:9] == ("hq", None, "f1", None, None, "2026-11-02", "2026-11-08", [])
    zones = {o["value"] for o in out[12]}
    assert zones and all(z.startswith("f1-") for z in zones)
    # A control change rewrites the URL; a backwards range is swapped.
    values = ["hq", "main", None, None, "it", "2026-11-10", "2026-11-03", ["wh"]]
    out = sync_filters("?site=hq", values, "filters-department")
    assert (
        out[0]
        == "?site=hq&building=main&department=it&from=2026-11-03&to=2026-11-10&wh=1"
    )
    # A page's own keys survive a filter change.
    out = sync_filters("?site=hq&space=f0-it-d001", values, "filters-department")
    assert (
        out[0]
        == "?site=hq&building=main&department=it&from=2026-11-03&to=2026-11-10&wh=1&space=f0-it-d001"
    )


def test_devices_callback_reads_health_and_rejections(app: Any, db_conn: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    with db_conn, db_conn.cursor() as cur:
        cur.execute("DELETE FROM device_health; DELETE FROM rejected_messages;")
        cur.execute("SELECT device_id FROM devices ORDER BY device_id LIMIT 3")
        ids = [r[0] for r in cur.fetchall()]
        cur.execute(
            "INSERT INTO device_health (device_id, last_seen, battery_pct, online) VALUES (%s,%s,%s,true),(%s,%s,%s,true),(%s,%s,%s,false)",
            (
                ids[0],
                now,
                80.0,
                ids[1],
                now - dt.timedelta(hours=3),
                12.0,
                ids[2],
                now,
                50.0,
            ),
        )
        cur.execute(
            "INSERT INTO devices (device_id, kind, assigned) VALUES ('stray-1', 'desk_sensor', false)"
        )
        for reason, n in (("malformed", 3), ("unknown_device", 1)):
            for _ in range(n):
                cur.execute(
                    "INSERT INTO rejected_messages (received_at, topic, payload, reason) VALUES (%s, 't', 'x', %s)",
                    (now - dt.timedelta(days=1), reason),
                )
    today = (now + dt.timedelta(days=1)).date()
    search = f"?site=hq&from={(today - dt.timedelta(days=6)).isoformat()}&to={today.isoformat()}&wh=1"
    with app.server.test_request_context("/"):
        kpis, fig, offline, unassigned = page("devices").update_devices(search)
    assert (
        "stray-1" in str(unassigned)
        and ids[1] in str(offline)
        and ids[0] not in str(offline)
    )
    values = {c.children[1].children: c.children[0].children for c in kpis}
    assert values["Devices"] == "352"  # 351 in the building file + 1 discovered
    assert (
        values["Online"] == "1"
    )  # ids[1] silent 3 h, ids[2] reports offline, the rest never seen
    assert values["Offline or silent"] == "351"
    assert values["Battery below 20 %"] == "1"
    assert values["Unassigned devices"] == "1"
    # Reasons in words with the code kept; a code without words as it is.
    assert list(fig.data[0].y) == ["malformed", "Unknown device (unknown_device)"]
    assert list(fig.data[0].customdata) == ["malformed", "unknown_device"]
    assert list(fig.data[0].x) == [3, 1]
    from dashboard.i18n import rejection_reason

    assert rejection_reason("unknown_device", "nl") == (
        "Onbekend apparaat (unknown_device)"
    )


def test_rollup_reads_are_reused_until_analyze_writes_again(
    app: Any, db_conn: Any
) -> None:
    data = app.server.extensions["occupancy_dashboard"]
    data.clear_cache()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert data.cached(("probe",), compute) == 1
    assert data.cached(("probe",), compute) == 1  # reused
    with db_conn, db_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO analytics_watermark (name, received_at, computed_at) VALUES ('probe', now(), now() + interval '1 day') "
            "ON CONFLICT (name) DO UPDATE SET computed_at = EXCLUDED.computed_at + interval '1 day'"
        )
    data._version_at = float("-inf")  # skip the 5 s between watermark checks
    assert data.cached(("probe",), compute) == 2  # new rollups: computed again
    assert data.cached(("other",), compute) == 3
