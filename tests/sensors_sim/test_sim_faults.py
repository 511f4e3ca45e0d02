"""Every fault type appears at its configured rate (binomial tolerance), and
faulty messages look the way their label says."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pandas as pd
import pytest

from sensors_sim import Scenario, simulate

DAYS = 3
RATES = {
    "duplicate": 0.02,
    "late": 0.01,
    "out_of_order": 0.01,
    "malformed": 0.01,
    "clock_skew": 0.1,
    "stuck": 0.05,
    "battery_drain": 0.1,
    "offline": 0.05,
}


def _within(count: float, n: float, p: float) -> bool:
    """count within 4.5 binomial standard deviations of n·p."""
    sd = math.sqrt(max(n * p * (1 - p), 1e-9))
    return abs(count - n * p) <= 4.5 * sd + 1


@pytest.fixture(scope="module")
def result(example_site: Any) -> Any:
    sc = Scenario().replace(faults=RATES, sensors={"battery_report_s": 3600})
    return simulate(example_site, sc, dt.date(2026, 3, 2), DAYS, seed=11)


def test_per_message_faults_at_rate(result: Any) -> None:
    m = result.messages
    data = m[m["kind"] != "status"]
    counts = data["fault"].value_counts()
    eligible = sum(
        counts.get(f, 0) for f in ("none", "malformed", "late", "out_of_order")
    )
    assert eligible > 100_000
    for fault in ("malformed", "late", "out_of_order"):
        assert _within(counts.get(fault, 0), eligible, RATES[fault]), fault
    p_dup = (1 - RATES["malformed"] - RATES["late"] - RATES["out_of_order"]) * RATES[
        "duplicate"
    ]
    assert _within(counts.get("duplicate", 0), eligible, p_dup)


def test_per_device_faults_at_rate(result: Any, example_site: Any) -> None:
    m = result.messages
    n_dev = len(example_site.devices)
    n_desk = sum(d.kind == "desk_sensor" for d in example_site.devices)
    per = m.groupby("fault", observed=True)["device_id"].nunique()
    assert _within(per.get("stuck", 0), n_desk, RATES["stuck"])
    assert _within(per.get("battery_drain", 0), n_dev, RATES["battery_drain"])
    assert _within(per.get("clock_skew", 0), n_dev, RATES["clock_skew"] * 0.9) or (
        _within(per.get("clock_skew", 0), n_dev, RATES["clock_skew"])
    )
    offline = m[(m["fault"] == "offline") & (m["expected"] == "status:offline")]
    assert _within(len(offline), n_dev * DAYS, RATES["offline"])


def test_fault_payloads_match_labels(result: Any) -> None:
    m = result.messages
    # duplicates repeat an earlier message byte for byte
    dup = m[m["fault"] == "duplicate"]
    orig = m[m["fault"] != "duplicate"].set_index(["device_id", "seq"])["payload"]
    assert all(
        orig.loc[(d, s)] == p
        for d, s, p in dup[["device_id", "seq", "payload"]]
        .head(200)
        .itertuples(index=False)
    )
    # late messages are published minutes to hours after their instant
    late = m[m["fault"] == "late"]
    delay = (late["send_at"] - late["ts_true"]).dt.total_seconds()
    assert (delay >= 119).all() and (delay <= 3 * 3600 + 1).all()
    # out-of-order: published after the device's next message
    ooo = m[m["fault"] == "out_of_order"].head(100)
    for row in ooo.itertuples():
        nxt = m[(m["device_id"] == row.device_id) & (m["seq"] == row.seq + 1)]
        if len(nxt):
            assert nxt["send_at"].min() < row.send_at
    # malformed ones do not parse into a valid message
    for row in m[m["fault"] == "malformed"].itertuples():
        assert row.expected.startswith("reject:")
        try:
            body = json.loads(row.payload)
        except ValueError:
            assert row.expected == "reject:bad_json"
            continue
        field = {"presence": "occupied", "heartbeat": "occupied", "count": "count"}
        field |= {"ble": "beacons", "battery": "battery"}
        value = body.get(field[row.kind])
        assert value is None or isinstance(value, str) or value != value  # NaN
    # clock skew: the payload's ts is off the true instant by 30 s .. 30 min
    sk = m[(m["fault"] == "clock_skew") & (m["kind"] == "heartbeat")].head(100)
    for row in sk.itertuples():
        ts = json.loads(row.payload)["ts"]
        off = abs(ts - row.ts_true.value // 1_000_000) / 1000
        assert 30 <= off <= 1800
    # stuck desk sensors always say occupied
    st = m[(m["fault"] == "stuck")]
    assert len(st) and all(json.loads(p)["occupied"] is True for p in st["payload"])


def test_offline_periods_are_silent(result: Any) -> None:
    m = result.messages
    status = m[(m["kind"] == "status") & (m["fault"] == "offline")].sort_values(
        ["device_id", "ts_true"]
    )
    assert status["retain"].all()
    pairs = status.groupby("device_id", observed=True)
    checked = 0
    for dev, g in pairs:
        exp = g["expected"].tolist()
        times = g["ts_true"].tolist()
        dm = m[(m["device_id"] == dev) & (m["kind"] != "status")]
        for i in range(0, len(exp) - 1):
            if exp[i] == "status:offline" and exp[i + 1] == "status:online":
                inside = dm[
                    (dm["ts_true"] >= times[i]) & (dm["ts_true"] < times[i + 1])
                ]
                assert inside.empty
                checked += 1
    assert checked > 10
    assert isinstance(status["ts_true"].iloc[0], pd.Timestamp)
