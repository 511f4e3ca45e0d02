"""The ingester's commands as a user runs them, and the writer's bad-row isolation."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from ingest_helpers import KEY, our_messages, publish

from ingest.context import DeviceInfo
from ingest.decoders.common import Decoded
from ingest.writer import Item, Writer
from occupancy.events import Event, Kind
from occupancy.pseudonym import pseudonymise

ROOT = Path(__file__).resolve().parents[2]


def _run(
    args: list[str], env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "occupancy", *args],
        check=False,
        input=stdin,
        capture_output=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=120,
    )


def test_decode_prints_events_or_the_reason() -> None:
    ok = _run(
        [
            "decode",
            "occupancy/hq/ds-f1-finance-d001/presence",
            "--received-at",
            "2026-03-02T08:15:00Z",
        ],
        {},
        b'{"ts":"2026-03-02T08:15:03Z","seq":1,"occupied":true}\n',
    )
    assert ok.returncode == 0, ok.stderr
    [line] = ok.stdout.decode().splitlines()
    assert json.loads(line) == {
        "ts": "2026-03-02T08:15:03Z",
        "device_id": "ds-f1-finance-d001",
        "kind": "presence",
        "value": 1.0,
        "seq": 1,
        "ts_source": "device",
        "family": "occupancy",
        "meaning": "presence occupied; device 'ds-f1-finance-d001' (occupancy)",
    }
    bad = _run(["decode", "zigbee2mqtt/desk_1"], {}, b'{"occupancy":true,"x":NaN}')
    assert bad.returncode == 1
    assert bad.stdout == b""
    assert b"non_finite_number" in bad.stderr
    unknown = _run(
        ["decode", "--building", "examples/office.yaml", "occupancy/hq/nope/presence"],
        {},
        b'{"occupied":true}',
    )
    assert unknown.returncode == 1 and b"unknown_device" in unknown.stderr


@pytest.mark.integration
def test_badges_import_stores_only_pseudonyms(
    database_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "badges.csv"
    csv.write_text(
        "badge_id,department_id\nB-0001,finance\nB-0002,legal\n", encoding="utf-8"
    )
    env = {"OCCUPANCY_DATABASE_URL": database_url, "OCCUPANCY_PSEUDONYM_KEY": ""}
    refused = _run(["badges", "import", str(csv)], env)
    assert refused.returncode != 0 and b"OCCUPANCY_PSEUDONYM_KEY" in refused.stderr
    done = _run(["badges", "import", str(csv)], {**env, "OCCUPANCY_PSEUDONYM_KEY": KEY})
    assert done.returncode == 0, done.stderr
    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT badge, department_id FROM badge_departments ORDER BY department_id"
        )
        rows = cur.fetchall()
    conn.close()
    assert rows == [
        (pseudonymise(KEY, "B-0001"), "finance"),
        (pseudonymise(KEY, "B-0002"), "legal"),
    ]


@pytest.mark.integration
def test_ingest_until_idle_resumes_its_session(
    database_url: str, mqtt_server: Any, topic_prefix: str
) -> None:
    root = f"{topic_prefix}/occupancy"
    env = {
        "OCCUPANCY_DATABASE_URL": database_url,
        "OCCUPANCY_MQTT_URL": mqtt_server.url,
        "OCCUPANCY_TOPIC_ROOT": root,
        "OCCUPANCY_INGEST_TOPICS": f"{root}/#",
        "OCCUPANCY_INGEST_CLIENT_ID": f"cli-{uuid.uuid4().hex[:8]}",
        "OCCUPANCY_PSEUDONYM_KEY": KEY,
        "OCCUPANCY_METRICS_PORT": "0",
    }
    first = _run(["ingest", "--until-idle", "0.5", "--group", ""], env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().startswith(
        "received=0 inserted=0 duplicates=0 rejected=0"
    )
    # While it is away, the broker keeps messages for its persistent session.
    base = random.randrange(10**9, 2 * 10**9)
    publish(
        mqtt_server.url,
        [*our_messages(root, base, 30), (f"{root}/hq/x/presence", b"[")],
    )
    second = _run(["ingest", "--until-idle", "1", "--group", ""], env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.decode().startswith(
        "received=31 inserted=30 duplicates=0 rejected=1"
    )


def test_ingest_refuses_to_start_without_key() -> None:
    r = _run(["ingest", "--until-idle", "0.1"], {"OCCUPANCY_PSEUDONYM_KEY": ""})
    assert r.returncode != 0 and b"OCCUPANCY_PSEUDONYM_KEY" in r.stderr


@pytest.mark.integration
def test_one_bad_row_is_isolated_and_the_rest_kept(database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    seq = random.randrange(10**9)
    items = []
    for i in range(7):
        # seq 2**64 does not fit a bigint: the database refuses that one row.
        ev = Event(
            ts=now,
            device_id="ds-f0-hr-d001",
            kind=Kind.PRESENCE,
            value=1.0,
            seq=2**64 if i == 3 else seq + i,
        )
        items.append(
            Item(
                f"t/bad/{i}",
                b"{}",
                now,
                Decoded(events=(ev,), device_id="ds-f0-hr-d001"),
            )
        )
    writer = Writer(database_url, client_id=f"w-{uuid.uuid4().hex[:6]}")
    try:
        res = writer.write(
            items,
            {"ds-f0-hr-d001": DeviceInfo("ds-f0-hr-d001", space_id="f0-hr-d001")},
            received=7,
        )
    finally:
        writer.close()
    assert (res.accepted, res.rejected, res.events_inserted) == (6, 1, 6)
    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM sensor_events WHERE seq BETWEEN %s AND %s",
            (seq, seq + 6),
        )
        stored = cur.fetchone()
        cur.execute(
            "SELECT topic, reason FROM rejected_messages WHERE topic LIKE 't/bad/%%'"
        )
        rejected = cur.fetchall()
        cur.execute(
            "SELECT received, accepted, rejected FROM ingest_stats WHERE client_id = %s",
            (writer.client_id,),
        )
        stats = cur.fetchone()
    conn.close()
    assert stored == (6,)
    assert rejected == [("t/bad/3", "db_refused")]
    assert stats == (7, 6, 1)


def test_decode_remembers_discovery_configs_between_runs(tmp_path: Path) -> None:
    env = {"OCCUPANCY_DATA_DIR": str(tmp_path)}
    config = json.dumps(
        {"device_class": "motion", "state_topic": "lab/pir7", "payload_on": "yes"}
    ).encode()
    first = _run(
        ["decode", "homeassistant/binary_sensor/pir7/motion/config"], env, config
    )
    assert first.returncode == 0 and b"discovered device 'pir7'" in first.stderr
    state = _run(["decode", "lab/pir7"], env, b"yes")
    assert state.returncode == 0, state.stderr
    [line] = state.stdout.decode().splitlines()
    assert (
        json.loads(line)["meaning"]
        == "presence occupied; device 'pir7' (homeassistant)"
    )
