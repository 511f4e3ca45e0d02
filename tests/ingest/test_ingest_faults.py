"""Nothing lost, nothing doubled: the ingester as a subprocess, under faults.

These tests stop and restart their *own* PostgreSQL and Mosquitto (never the
session servers other modules use) and kill ingester processes with SIGKILL.
Each publishes a stream of our-format messages with unique (device, seq) and
asserts that, once the pipeline settled, every one is stored exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import (
    KEY,
    assert_exactly_once,
    our_messages,
    publish,
    seq_counts,
    wait_for,
)

from app.services import MosquittoServer, PostgresServer, free_port

from conftest import EXAMPLE_BUILDING, make_traversable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


# How long an ingester process may take to start and subscribe: importing
# pandas and psycopg2 takes several seconds when the machine is loaded (CI saw
# two ingesters starting at load 10 miss a 30 s deadline, and ~100 s at load 25). A deadline, not a
# sleep: the waits return as soon as the ingester answers.
STARTUP_S = 180


class Stack:
    """A private broker and database for one test module."""

    def __init__(self, base: Path) -> None:
        self.pg = PostgresServer(base / "pg", free_port(), fsync=False)
        self.mq = MosquittoServer(base / "mq", free_port())
        self.logs = Path(os.environ.get("INGEST_TEST_LOGDIR", str(base)))

    def start(self) -> None:
        from occupancy.building import load_building
        from occupancy.db import connect, migrate
        from occupancy.metadata import load_site

        self.pg.start()
        self.mq.start()
        conn = connect(self.pg.url())
        try:
            migrate(conn)
            load_site(conn, load_building(EXAMPLE_BUILDING))
        finally:
            conn.close()

    @property
    def db_url(self) -> str:
        return self.pg.url()

    @property
    def mqtt_url(self) -> str:
        return self.mq.url()

    def ingester(
        self, topic_root: str, client_id: str, group: str = ""
    ) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "OCCUPANCY_DATABASE_URL": self.db_url,
            "OCCUPANCY_MQTT_URL": self.mqtt_url,
            "OCCUPANCY_TOPIC_ROOT": topic_root,
            "OCCUPANCY_INGEST_TOPICS": f"{topic_root}/#",
            "OCCUPANCY_INGEST_CLIENT_ID": client_id,
            "OCCUPANCY_PSEUDONYM_KEY": KEY,
            "OCCUPANCY_METRICS_PORT": "0",
            "OCCUPANCY_BATCH_SIZE": "100",
            "OCCUPANCY_SITE": "hq",
        }
        log = open(self.logs / f"{client_id}.log", "ab")
        return subprocess.Popen(
            [sys.executable, "-m", "ingest", "--group", group],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = make_traversable(tmp_path_factory.mktemp("ingest-faults"))
    s = Stack(base)
    s.start()
    try:
        yield s
    finally:
        s.mq.stop()
        s.pg.stop(mode="immediate")


def _stream(
    mqtt_url: str, msgs: list[tuple[str, bytes]], rate_per_s: float
) -> threading.Thread:
    """Publish ``msgs`` in the background at about ``rate_per_s``, resending
    across broker restarts until every one is acknowledged."""

    def run() -> None:
        chunk = max(1, int(rate_per_s / 10))
        for i in range(0, len(msgs), chunk):
            publish(mqtt_url, msgs[i : i + chunk], retry=True, timeout_s=120)
            time.sleep(0.1)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _wait_subscribed(stack: Stack, root: str, base: int) -> None:
    """Publish probes (seq below ``base``) until one is stored: the ingester is
    then subscribed, and nothing published from now on can miss it."""
    probe = our_messages(root, base - 1000, 1)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        publish(stack.mqtt_url, probe)
        if seq_counts(stack.db_url, base - 1000, base - 1000):
            return
        time.sleep(0.3)
    raise AssertionError(f"the ingester did not subscribe within {STARTUP_S} s")


def _settle(
    stack: Stack, msgs: list[tuple[str, bytes]], base: int, timeout_s: float = 90
) -> None:
    wait_for(
        lambda: len(seq_counts(stack.db_url, base, base + len(msgs) - 1)) == len(msgs),
        timeout_s,
        f"{len(msgs)} events in the database",
    )
    assert_exactly_once(stack.db_url, msgs, base)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _root() -> tuple[str, int]:
    return f"t/faults/{uuid.uuid4().hex[:8]}/occupancy", int(
        time.time() * 1000
    ) % 10**9 * 10


def test_database_stopped_30s_mid_stream(stack: Stack) -> None:
    root, base = _root()
    ing = stack.ingester(root, "ing-db")
    try:
        _wait_subscribed(stack, root, base)
        msgs = our_messages(root, base, 3000)
        pub = _stream(stack.mqtt_url, msgs, rate_per_s=100)
        wait_for(
            lambda: len(seq_counts(stack.db_url, base, base + 3000)) > 100,
            30,
            "first events",
        )
        stack.pg.stop(mode="fast")
        stopped_at = time.monotonic()
        time.sleep(30)  # the fault itself: the database is away for 30 s
        stack.pg.start()
        assert time.monotonic() - stopped_at >= 30
        pub.join(timeout=120)
        _settle(stack, msgs, base)
        assert ing.poll() is None, "the ingester must survive a database outage"
    finally:
        _stop(ing)


def test_broker_restarted_mid_stream(stack: Stack) -> None:
    root, base = _root()
    ing = stack.ingester(root, "ing-broker")
    try:
        _wait_subscribed(stack, root, base)
        msgs = our_messages(root, base, 2000)
        pub = _stream(stack.mqtt_url, msgs, rate_per_s=400)
        wait_for(
            lambda: len(seq_counts(stack.db_url, base, base + 2000)) > 200,
            30,
            "first events",
        )
        stack.mq.stop()
        stack.mq.start()
        pub.join(timeout=120)
        _settle(stack, msgs, base)
        assert ing.poll() is None
    finally:
        _stop(ing)


def test_ingester_sigkilled_and_restarted(stack: Stack) -> None:
    root, base = _root()
    ing = stack.ingester(root, "ing-kill")
    try:
        _wait_subscribed(stack, root, base)
        msgs = our_messages(root, base, 2000)
        pub = _stream(stack.mqtt_url, msgs, rate_per_s=400)
        wait_for(
            lambda: len(seq_counts(stack.db_url, base, base + 2000)) > 200,
            30,
            "first events",
        )
        ing.send_signal(signal.SIGKILL)
        ing.wait()
        time.sleep(0.5)  # let messages queue for the dead session before it returns
        ing = stack.ingester(root, "ing-kill")
        pub.join(timeout=120)
        _settle(stack, msgs, base)
    finally:
        _stop(ing)


def _received_by(stack: Stack, client_id: str) -> int:
    import psycopg2

    conn = psycopg2.connect(stack.db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT received FROM ingest_stats WHERE client_id = %s", (client_id,)
            )
            row = cur.fetchone()
            return int(row[0]) if row else 0
    finally:
        conn.close()


def test_shared_subscription_one_of_two_killed(stack: Stack) -> None:
    root, base = _root()
    a = stack.ingester(root, "ing-share-a", group="g1")
    b = stack.ingester(root, "ing-share-b", group="g1")
    try:
        # Probe until both members of the group took messages.
        probes = our_messages(root, base - 1000, 50)
        deadline = time.monotonic() + STARTUP_S
        while (
            _received_by(stack, "ing-share-a") == 0
            or _received_by(stack, "ing-share-b") == 0
        ):
            assert time.monotonic() < deadline, "both ingesters should get a share"
            publish(stack.mqtt_url, probes)
            time.sleep(0.3)
        msgs = our_messages(root, base, 3000)
        pub = _stream(stack.mqtt_url, msgs, rate_per_s=500)
        wait_for(
            lambda: len(seq_counts(stack.db_url, base, base + 3000)) > 300,
            30,
            "first events",
        )
        b.send_signal(signal.SIGKILL)
        b.wait()
        a_before = _received_by(stack, "ing-share-a")
        pub.join(timeout=120)
        # The survivor keeps taking its share while b is away...
        wait_for(
            lambda: _received_by(stack, "ing-share-a") > a_before,
            30,
            "the surviving ingester to keep storing",
        )
        # ...and what the broker kept for b's session arrives when b returns.
        b = stack.ingester(root, "ing-share-b", group="g1")
        _settle(stack, msgs, base)
    finally:
        _stop(a)
        _stop(b)
