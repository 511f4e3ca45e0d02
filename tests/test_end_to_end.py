"""The walking skeleton end to end, on the harness's real services:
device messages → Mosquitto → ingester → TimescaleDB → analytics → dashboard."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from app.services import free_port
from occupancy.building import load_building
from occupancy.db import connect, migrate
from occupancy.metadata import load_site
from occupancy.settings import load_settings

from conftest import EXAMPLE_BUILDING, MqttHandle, PgHandle

pytestmark = pytest.mark.integration

DESK = "f1-finance-d001"
DEVICE = f"ds-{DESK}"


def _settings(database_url: str, mqtt: MqttHandle, topic_root: str) -> Any:
    return load_settings(
        {
            "database_url": database_url,
            "mqtt_url": mqtt.url,
            "topic_root": topic_root,
            "ingest_topics": f"{topic_root}/#",
            "ingest_client_id": f"e2e-{topic_root.replace('/', '-')}",
            "pseudonym_key": "test-key-e2e",
            "metrics_port": 0,
        },
        environ={},
    )


def _publish_all(mqtt_h: MqttHandle, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-device")
    client.connect(mqtt_h.host, mqtt_h.port)
    client.loop_start()
    infos = [client.publish(t, p, qos=1) for t, p in messages]
    for info in infos:
        info.wait_for_publish(timeout=10)
        assert info.is_published()
    client.disconnect()
    client.loop_stop()


def test_device_messages_reach_the_database(
    database_url: str, mqtt_server: MqttHandle, topic_prefix: str
) -> None:
    from ingest.service import Ingester

    root = f"{topic_prefix}/occupancy"
    settings = _settings(database_url, mqtt_server, root)
    ingester = Ingester(settings)
    ingester.start()
    try:
        deadline = time.monotonic() + 20
        while not ingester.stats.subscribed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ingester.stats.subscribed, "no SUBACK within 20 s"
        base = dt.datetime(2026, 3, 3, 8, 0, tzinfo=dt.UTC)
        msgs = []
        for i in range(10):
            ts = (base + dt.timedelta(minutes=5 * i)).isoformat().replace("+00:00", "Z")
            kind = "presence" if i in (0, 9) else "heartbeat"
            occupied = i != 9
            msgs.append(
                (
                    f"{root}/hq/{DEVICE}/{kind}",
                    json.dumps({"ts": ts, "seq": i, "occupied": occupied}).encode(),
                )
            )
        msgs.append((f"{root}/hq/{DEVICE}/presence", b"{not json"))
        msgs.append(msgs[3])  # a duplicate delivery
        _publish_all(mqtt_server, msgs)
        assert ingester.wait_idle(1.0, timeout=30)
        snap = ingester.stats.snapshot()
    finally:
        ingester.stop()
    assert (
        snap.received == 12
        and snap.rejected == 1
        and snap.duplicates == 1
        and snap.inserted == 10
    )
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT seq, kind, value, space_id FROM sensor_events WHERE device_id = %s ORDER BY seq",
                (DEVICE,),
            )
            rows = cur.fetchall()
            cur.execute(
                "SELECT reason FROM rejected_messages WHERE topic LIKE %s",
                (f"{root}/%",),
            )
            reasons = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    assert [r[0] for r in rows] == list(range(10))
    assert rows[0][1:] == ("presence", 1.0, DESK) and rows[9][1:] == (
        "presence",
        0.0,
        DESK,
    )
    assert len(reasons) == 1


def test_skeleton_analytics_value_worked_out_by_hand(pg_server: PgHandle) -> None:
    """A desk occupied 09:00-11:30 local on Tuesday 3 March 2026 (CET, UTC+1),
    heartbeats every 5 min: inside working hours 08:00-18:00 that is
    2.5 h of 10 h available = 25.0 % time used; the other desks have no data."""
    from analytics.pipeline import run_analyze

    url = pg_server.create_database("t_e2e_skeleton")
    conn = connect(url)
    try:
        migrate(conn)
        load_site(conn, load_building(EXAMPLE_BUILDING))
        with conn, conn.cursor() as cur:
            # 08:00Z = 09:00 local: occupied; heartbeats every 5 min; vacant at 10:30Z.
            cur.execute(
                """INSERT INTO sensor_events (ts, device_id, space_id, kind, value, seq)
                   SELECT t, %s, %s, CASE WHEN t = '2026-03-03 08:00Z' THEN 'presence' ELSE 'heartbeat' END,
                          CASE WHEN t < '2026-03-03 10:30Z' THEN 1.0 ELSE 0.0 END, row_number() OVER (ORDER BY t)
                     FROM generate_series('2026-03-03 07:00Z'::timestamptz, '2026-03-03 17:00Z', '5 min') t""",
                (DEVICE, DESK),
            )
            cur.execute(
                "UPDATE sensor_events SET kind = 'presence' WHERE ts IN ('2026-03-03 07:00Z', '2026-03-03 10:30Z')"
            )
            cur.execute(
                "UPDATE sensor_events SET value = 0.0 WHERE ts < '2026-03-03 08:00Z'"
            )
        run_analyze(
            conn,
            load_settings({"database_url": url}, environ={}),
            full=True,
            progress=lambda m: None,
        )
        with conn.cursor() as cur:
            cur.execute(
                "SELECT day, occupied_s, available_s, time_used_pct FROM desk_daily_utilization"
                " WHERE space_id = %s",
                (DESK,),
            )
            rows = cur.fetchall()
            cur.execute(
                "SELECT count(*) FROM desk_daily_utilization WHERE space_id <> %s",
                (DESK,),
            )
            others = cur.fetchone()
    finally:
        conn.close()
    assert rows == [(dt.date(2026, 3, 3), 9000.0, 36000.0, 25.0)]
    assert others == (0,)


@pytest.mark.slow
def test_demo_non_interactive(
    pg_server: PgHandle, mqtt_server: MqttHandle, tmp_path: Any
) -> None:
    """`occupancy demo --no-serve`: data loaded, analytics computed, dashboard answering."""
    url = pg_server.create_database("t_e2e_demo")
    port = free_port()
    env = {
        **os.environ,
        "OCCUPANCY_DATABASE_URL": url,
        "OCCUPANCY_MQTT_URL": mqtt_server.url,
        "OCCUPANCY_TOPIC_ROOT": "t/demo/occupancy",
        "OCCUPANCY_INGEST_TOPICS": "t/demo/occupancy/#",
        "OCCUPANCY_DATA_DIR": str(tmp_path),
        "OCCUPANCY_DASHBOARD_PORT": str(port),
    }
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "demo",
            "--days",
            "1",
            "--start",
            "2026-03-03",
            "--no-serve",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"dashboard answered on http://127.0.0.1:{port}/" in res.stderr
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*), avg(time_used_pct) FROM desk_daily_utilization WHERE day = '2026-03-03'"
            )
            n, mean = cur.fetchone()
            cur.execute("SELECT count(DISTINCT device_id) FROM sensor_events")
            devices = cur.fetchone()[0]
    finally:
        conn.close()
    assert n >= 250 and devices >= 300
    assert 10.0 < mean < 80.0  # a Tuesday in an office, not an empty or full building
