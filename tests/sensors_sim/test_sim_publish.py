"""Publishing through the real broker, and the ``occupancy simulate`` command."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pandas as pd
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from app.cli import main
from occupancy.settings import parse_mqtt_url
from sensors_sim import Scenario, simulate
from sensors_sim.publish import publish


class Collector:
    """A subscriber that records (topic, payload) of everything under a prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        u = parse_mqtt_url(url)
        self.got: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        if u.username:
            self.client.username_pw_set(u.username, u.password)
        self.client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect(u.host, u.port)
        self.client.loop_start()
        assert self.ready.wait(10)

    def _on_message(self, c: Any, u: Any, msg: Any) -> None:
        with self.arrived:
            self.got.append((msg.topic, bytes(msg.payload)))
            self.arrived.notify_all()

    def wait_for(self, n: int, timeout_s: float = 30.0) -> list[tuple[str, bytes]]:
        # Block on a condition the network thread signals: a busy poll here
        # starves paho's thread of the GIL and the messages arrive too slowly.
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.got) >= n, timeout=timeout_s)
            return list(self.got)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def day(example_site: Any) -> Any:
    return Scenario().replace(faults={"duplicate": 0.01, "malformed": 0.005})


@pytest.mark.integration
def test_one_hour_through_the_broker(
    mqtt_server: Any, topic_prefix: str, example_site: Any, day: Any
) -> None:
    r = simulate(
        example_site, day, dt.date(2026, 3, 3), 1, seed=4, topic_root=topic_prefix
    )
    t0 = pd.Timestamp("2026-03-03 09:00", tz="Europe/Amsterdam")
    hour = r.messages[
        (r.messages["send_at"] >= t0)
        & (r.messages["send_at"] < t0 + pd.Timedelta(hours=1))
    ]
    assert len(hour) > 1000
    assert hour["topic"].str.startswith(topic_prefix + "/hq/").all()
    sub = Collector(mqtt_server.url, topic_prefix)
    try:
        stats = publish(
            hour, mqtt_server.url, backfill=True, progress=False, window=200
        )
        got = sub.wait_for(len(hour))
    finally:
        sub.close()
    assert stats.messages == len(hour)
    sent = Counter(zip(hour["topic"], hour["payload"], strict=True))
    received = Counter(got)
    # QoS 1: everything arrives, possibly more than once (never less)
    assert set(received) == set(sent)
    assert all(received[k] >= v for k, v in sent.items())
    # the messages truth table lists every published message with its label
    truth = r.truth["messages"]
    assert len(truth) == len(r.messages)
    assert (hour["fault"] == "duplicate").sum() > 0


@pytest.mark.integration
def test_speed_paces_the_simulated_clock(
    mqtt_server: Any, topic_prefix: str, example_site: Any, day: Any
) -> None:
    r = simulate(
        example_site, day, dt.date(2026, 3, 3), 1, seed=4, topic_root=topic_prefix
    )
    t0 = pd.Timestamp("2026-03-03 10:00", tz="Europe/Amsterdam")
    span = r.messages[
        (r.messages["send_at"] >= t0)
        & (r.messages["send_at"] < t0 + pd.Timedelta(minutes=20))
    ]
    sim_s = (span["send_at"].iloc[-1] - span["send_at"].iloc[0]).total_seconds()
    stats = publish(span, mqtt_server.url, speed=1200, progress=False)
    assert stats.seconds >= sim_s / 1200 * 0.95
    assert stats.seconds < sim_s / 1200 + 5


def test_cli_writes_truth_and_bookings(tmp_path: Path) -> None:
    scenario = tmp_path / "light.yaml"
    scenario.write_text("sensors:\n  desk_heartbeat_s: 3600\n")
    out = tmp_path / "truth"
    bookings = tmp_path / "bookings.csv"
    res = CliRunner().invoke(
        main,
        [
            "simulate",
            "--scenario",
            str(scenario),
            "--start",
            "2026-03-03",
            "--days",
            "1",
            "--no-publish",
            "--ground-truth",
            str(out),
            "--truth-format",
            "csv",
            "--bookings",
            str(bookings),
        ],
    )
    assert res.exit_code == 0, res.output
    columns = {
        "people": "person_id,department_id,home_zone_id,office_days_per_week,has_badge,badge_id",
        "intervals": "person_id,department_id,space_id,zone_id,floor_id,start,end,activity",
        "space_counts": "space_id,start,end,people",
        "zone_counts": "zone_id,start,end,people",
        "dept_zone": "zone_id,department_id,start,end,people",
        "meetings": "meeting_id,room_id,start,end,organiser_department,expected_attendees,attendees,booked,no_show",
        "messages": "device_id,topic,seq,ts_true,fault,expected",
        "badges": "badge_id,department_id",
    }
    for table, cols in columns.items():
        df = pd.read_csv(out / f"{table}.csv")
        assert list(df.columns[: len(cols.split(","))]) == cols.split(","), table
        assert len(df) > 0, table
    b = pd.read_csv(bookings)
    assert list(b.columns) == [
        "room_id",
        "start",
        "end",
        "organiser_department",
        "expected_attendees",
    ]
    assert b["start"].str.endswith("+01:00").all()  # ISO with the site's offset (CET)
    meetings = pd.read_csv(out / "meetings.csv")
    assert len(b) == meetings["booked"].sum()


def test_cli_names_bad_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("faults:\n  dupliate: 0.1\n")
    res = CliRunner().invoke(
        main, ["simulate", "--scenario", str(scenario), "--no-publish"]
    )
    assert res.exit_code != 0
    assert "faults.dupliate: unknown field" in res.output


def test_write_truth_parquet(tmp_path: Path, example_site: Any) -> None:
    sc = Scenario().replace(sensors={"desk_heartbeat_s": 3600})
    r = simulate(example_site, sc, dt.date(2026, 3, 3), 1, seed=2)
    paths = r.write_truth(tmp_path, "parquet")
    assert next(p.name for p in paths) == "people.parquet"
    back = pd.read_parquet(tmp_path / "intervals.parquet")
    pd.testing.assert_frame_equal(back, r.truth["intervals"])
