"""Ground truth and messages agree: decoding the fault-free messages with a
tiny reference decoder reproduces the true intervals (up to the detection
delay and hold time), the true counts and the badges present."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sensors_sim import Scenario, simulate

NO_FAULTS = dict.fromkeys(
    [
        "duplicate",
        "late",
        "out_of_order",
        "malformed",
        "clock_skew",
        "stuck",
        "battery_drain",
        "offline",
    ],
    0.0,
)


@pytest.fixture(scope="module")
def result(example_site: Any) -> Any:
    sc = Scenario().replace(
        faults=NO_FAULTS,
        sensors={
            "missed_detection_per_hour": 0.0,
            "count_error_share": 0.0,
            "desk_heartbeat_s": 1800,
        },
    )
    return simulate(example_site, sc, dt.date(2026, 3, 3), 2, seed=21)


def _decode_presence(payloads: list[bytes]) -> list[tuple[float, float]]:
    """Reference decoder: presence state changes → occupied spans [s epoch]."""
    events = []
    for p in payloads:
        body = json.loads(p)
        t = pd.Timestamp(body["ts"]).timestamp()
        events.append((t, body["occupied"]))
    events.sort()
    spans, on = [], None
    for t, occ in events:
        if occ and on is None:
            on = t
        elif not occ and on is not None:
            spans.append((on, t))
            on = None
    return spans


def test_desk_presence_reproduces_true_intervals(
    result: Any, example_site: Any
) -> None:
    m = result.messages
    truth = result.truth["space_counts"]
    desks = {d.space_id: d.id for d in example_site.devices if d.kind == "desk_sensor"}
    checked = 0
    for space_id, dev in list(desks.items())[::7]:
        t = truth[truth["space_id"] == space_id].sort_values("start")
        true = [
            (s.timestamp(), e.timestamp())
            for s, e in zip(t["start"], t["end"], strict=True)
        ]
        pres = m[(m["device_id"] == dev) & (m["kind"] == "presence")]
        got = _decode_presence(pres["payload"].tolist())
        assert len(got) == len(true), space_id
        for (ts, te), (gs, ge) in zip(true, got, strict=True):
            assert 5 - 1e-3 <= gs - ts <= 30 + 1e-3  # detection delay [s]
            assert 60 - 1e-3 <= ge - te <= 120 + 1e-3  # PIR hold time [s]
        checked += len(true)
    assert checked > 30


def test_heartbeats_carry_current_state(result: Any) -> None:
    m = result.messages
    dev = "ds-f1-finance-d001"
    pres = m[(m["device_id"] == dev) & (m["kind"] == "presence")]
    spans = _decode_presence(pres["payload"].tolist())
    for p in m[(m["device_id"] == dev) & (m["kind"] == "heartbeat")]["payload"]:
        body = json.loads(p)
        t = body["ts"] / 1000
        inside = any(s <= t < e for s, e in spans)
        assert body["occupied"] is inside


def test_counts_reproduce_true_counts(result: Any, example_site: Any) -> None:
    m = result.messages
    counters = {
        d.space_id: d.id for d in example_site.devices if d.kind == "room_counter"
    }
    truth = result.truth["space_counts"]
    truth = truth[truth["space_id"].isin(list(counters))]
    assert len(truth) > 20
    got = m[m["kind"] == "count"]
    sent = {
        (d, json.loads(p)["ts"], json.loads(p)["count"])
        for d, p in zip(got["device_id"], got["payload"], strict=True)
    }
    by_dev: dict[str, list[tuple[int, int]]] = {}
    for d, ts, c in sorted(sent):
        by_dev.setdefault(d, []).append((ts, c))
    for row in truth.itertuples():
        ms = row.start.value // 1_000_000
        dev = counters[row.space_id]
        assert (dev, ms, row.people) in sent
        # while non-zero, a count at least every counter period (60 s)
        series = by_dev[dev]
        lo = bisect.bisect_left(series, (ms, -1))
        hi = bisect.bisect_left(series, (row.end.value // 1_000_000, -1))
        ticks = [c for _, c in series[lo:hi]]
        assert len(ticks) >= (row.end - row.start).total_seconds() // 60
        assert set(ticks) == {row.people}


def test_ble_lists_badges_present(result: Any, example_site: Any) -> None:
    m = result.messages
    people = result.truth["people"].set_index("person_id")
    iv = result.truth["intervals"]
    iv = iv[iv["person_id"].map(people["has_badge"])]
    scanners = {
        d.id: d.zone_id for d in example_site.devices if d.kind == "ble_scanner"
    }
    ble = m[(m["kind"] == "ble")]
    rows = ble[ble["payload"].str.len() > 60].iloc[::40]
    assert len(rows) > 20
    for row in rows.itertuples():
        body = json.loads(row.payload)
        mid = pd.Timestamp(body["ts"]) - pd.Timedelta(seconds=30)
        zone = scanners[row.device_id]
        here = iv[(iv["zone_id"] == zone) & (iv["start"] <= mid) & (iv["end"] > mid)]
        want = set(people.loc[here["person_id"], "badge_id"])
        assert {b["id"] for b in body["beacons"]} == want
        assert all(-100 <= b["rssi"] <= -30 for b in body["beacons"])
    # every badge id is in the HR register with its department
    badges = result.truth["badges"]
    assert set(badges["badge_id"]) == set(people.loc[people["has_badge"], "badge_id"])


def test_truth_tables_consistent(result: Any) -> None:
    iv = result.truth["intervals"]
    zc = result.truth["zone_counts"]
    dz = result.truth["dept_zone"]
    # zone head count at an instant equals the people whose interval covers it
    t = pd.Timestamp("2026-03-03 11:00", tz="Europe/Amsterdam")
    for zone in ("f0-cafe", "f1-finance", "f2-meet"):
        want = ((iv["zone_id"] == zone) & (iv["start"] <= t) & (iv["end"] > t)).sum()
        z = zc[(zc["zone_id"] == zone) & (zc["start"] <= t) & (zc["end"] > t)]
        assert int(z["people"].sum()) == want
        d = dz[(dz["zone_id"] == zone) & (dz["start"] <= t) & (dz["end"] > t)]
        assert int(d["people"].sum()) == want
    assert np.all(iv["end"] > iv["start"])
    assert set(iv["activity"]) <= {"desk", "meeting", "lunch", "break", "visit"}
