"""The ingester's pause path under a real database outage (its own PostgreSQL,
stopped for real; real Mosquitto): more queued than the link allows, as when
a broker sends beyond Receive Maximum (forced here by a queue limit below
Receive Maximum), makes the ingester take no more messages while it stays
connected and pinging; once the database is back and the queue is written it
reconnects, the broker resends what was let go, and every message is stored
exactly once.

Every wait has a deadline and fails with what it was waiting for; stopping the
ingester runs under a watchdog that dumps every thread's stack if it hangs (a
former version of this test hung once).
"""

from __future__ import annotations

import faulthandler
import io
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import (
    assert_exactly_once,
    make_settings,
    our_messages,
    publish,
    seq_counts,
    wait_for,
)

from app.services import PostgresServer, free_port
from ingest.service import Ingester

from conftest import EXAMPLE_BUILDING, MqttHandle, make_traversable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The broker drops a client that sent nothing for 1.5 x keepalive (9 s): the
#: outage lasts well beyond that.
KEEPALIVE_S = 6
OUTAGE_S = float(os.environ.get("INGEST_PAUSE_OUTAGE_S", "25"))
MESSAGES = 3000
#: The link's limits, forced below Receive Maximum so that the broker's
#: ordinary window overflows them.
QUEUE_LIMIT, HARD_LIMIT = 100, 200


@pytest.fixture(scope="module")
def own_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL of this module alone (the test stops it)."""
    from occupancy.building import load_building
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site

    base = make_traversable(tmp_path_factory.mktemp("ingest-pause"))
    pg = PostgresServer(Path(base) / "pg", free_port(), fsync=False)
    pg.start()
    conn = connect(pg.url())
    try:
        migrate(conn)
        load_site(conn, load_building(EXAMPLE_BUILDING))
    finally:
        conn.close()
    try:
        yield pg
    finally:
        pg.stop(mode="immediate")


@pytest.fixture
def last_resort() -> Iterator[None]:
    """Should a wait without a deadline hang after all (paho, psycopg2), dump
    every stack and end the process rather than hang the suite."""
    faulthandler.dump_traceback_later(600, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _stacks() -> str:
    with tempfile.TemporaryFile("w+") as fh:
        faulthandler.dump_traceback(fh, all_threads=True)
        fh.seek(0)
        return fh.read()


def _stop_within(ing: Ingester, seconds: float) -> None:
    """``ing.stop()`` on a thread; fail with every stack if it takes longer."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ing.stop()
        except BaseException as exc:  # reported below
            errors.append(exc)

    t = threading.Thread(target=run, name="test-stop", daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise AssertionError(
            f"Ingester.stop() did not return within {seconds:.0f} s:\n{_stacks()}"
        )
    if errors:
        raise errors[0]


def _state(ing: Ingester) -> str:
    s = ing.stats
    out = io.StringIO()
    print(
        f"pauses={s.pauses} connects={s.connects} disconnects={s.disconnects} "
        f"connected={s.mqtt_connected} received={s.received} "
        f"redelivered={s.redelivered} snapshot={s.snapshot()} "
        f"queued={ing._link.queue.qsize()} paused={ing._link.paused}",
        file=out,
    )
    return out.getvalue()


def test_pause_under_database_outage_keeps_the_session_and_resumes(
    own_pg: PostgresServer,
    mqtt_server: MqttHandle,
    topic_root: str,
    last_resort: None,
) -> None:
    db = own_pg.url()
    ing = Ingester(
        make_settings(db, mqtt_server.url, topic_root, batch_size=200),
        keepalive_s=KEEPALIVE_S,
    )
    link = ing._link
    assert HARD_LIMIT < ing.receive_maximum  # the broker's window overflows it
    link.queue_limit, link.hard_limit = QUEUE_LIMIT, HARD_LIMIT
    base = 5_000_000_000 + int(time.time()) % 1_000_000 * 1000
    msgs = our_messages(topic_root, base, MESSAGES)
    ing.start()
    try:
        wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
        connects = ing.stats.connects
        own_pg.stop(mode="fast")  # the database goes away for real
        stopped = time.monotonic()
        publish(mqtt_server.url, msgs, timeout_s=60)
        wait_for(lambda: ing.stats.pauses >= 1, 30, f"a pause; {_state(ing)}")
        # Paused, the link holds a bounded amount and stays connected: the
        # network thread goes on (pings), longer than the broker would wait.
        while time.monotonic() - stopped < OUTAGE_S:
            assert ing.stats.mqtt_connected, f"disconnected while paused: {_state(ing)}"
            assert link.queue.qsize() <= HARD_LIMIT + 1, _state(ing)
            time.sleep(0.5)
        assert ing.stats.connects == connects and ing.stats.disconnects == 0, _state(
            ing
        )
        held = ing.stats.snapshot().in_flight
        assert 0 < held <= HARD_LIMIT + ing.batch_max + 1, _state(ing)
        own_pg.start()
        wait_for(
            lambda: (
                ing.stats.snapshot().in_flight == 0
                and len(seq_counts(db, base, base + MESSAGES - 1)) == MESSAGES
            ),
            120,
            f"every message committed after the outage; {_state(ing)}",
        )
        snap = ing.stats.snapshot()
        stats = _state(ing)
    finally:
        _stop_within(ing, 30)
    print(f"\npause under a {OUTAGE_S:.0f} s outage: held {held}; {stats}")
    assert_exactly_once(db, msgs, base)
    assert snap.balanced, stats
    # It reconnected (the resume) and the broker resent what was let go.
    assert ing.stats.connects > connects and ing.stats.redelivered > 0, stats
    # Copies of messages committed before a resume are dropped by the unique
    # keys: at most the broker's window per reconnect.
    reconnects = ing.stats.connects - connects
    assert snap.duplicates <= ing.receive_maximum * reconnects, stats
