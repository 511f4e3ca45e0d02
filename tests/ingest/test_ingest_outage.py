"""A long database outage under a steady stream (the real PostgreSQL refuses
every connection to the database and its sessions are ended, then it takes
them again; real Mosquitto): the ingester pauses without losing its MQTT
session, and afterwards every message is stored exactly once; the broker's
redeliveries are counted.

The outage lasts ``INGEST_OUTAGE_S`` seconds (120 by default): far beyond 1.5 ×
the keepalive, after which a broker drops a client that sent nothing.
"""

from __future__ import annotations

import os
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
from ingest.metrics import health
from ingest.service import Ingester

from conftest import EXAMPLE_BUILDING, MqttHandle, make_traversable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_S = float(os.environ.get("INGEST_OUTAGE_S", "120"))
RATE = int(os.environ.get("INGEST_OUTAGE_RATE", "100"))  # messages/s published
KEEPALIVE_S = 15


@pytest.fixture(scope="module")
def own_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL of this module alone (the test stops it)."""
    from occupancy.building import load_building
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site

    base = make_traversable(tmp_path_factory.mktemp("ingest-outage"))
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
        make_traversable(pg.data_dir)
        pg.stop(mode="immediate")


def _admin(pg: PostgresServer, statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(pg.url("postgres"), connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def _block(pg: PostgresServer) -> None:
    """The database goes away: new connections are refused by the server and
    the open ones are ended. (Stopping the server would free its port, and on
    a shared machine another process can take it before the restart.)"""
    _admin(pg, f"ALTER DATABASE {pg.database} ALLOW_CONNECTIONS false")
    _admin(
        pg,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{pg.database}'",
    )


def _start(pg: PostgresServer) -> None:
    """The database takes connections again."""
    _admin(pg, f"ALTER DATABASE {pg.database} ALLOW_CONNECTIONS true")


def _stream(url: str, msgs: list[tuple[str, bytes]]) -> threading.Thread:
    def run() -> None:
        step = RATE // 10
        t0 = time.monotonic()
        for n, i in enumerate(range(0, len(msgs), step)):
            publish(url, msgs[i : i + step], timeout_s=120)
            time.sleep(max(0.0, t0 + (n + 1) * 0.1 - time.monotonic()))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_database_outage_keeps_the_session_and_loses_nothing(
    own_pg: PostgresServer, mqtt_server: MqttHandle, topic_root: str
) -> None:
    db = own_pg.url()
    settings = make_settings(
        db,
        mqtt_server.url,
        topic_root,
        batch_size=int(os.environ.get("INGEST_OUTAGE_BATCH", "200")),
    )
    ing = Ingester(settings, keepalive_s=KEEPALIVE_S)
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    base = 3_000_000_000 + int(time.time()) % 1_000_000 * 1000
    msgs = our_messages(topic_root, base, int(RATE * (OUTAGE_S + 20)))
    pub = _stream(mqtt_server.url, msgs)
    unhealthy_seen = False
    try:
        wait_for(lambda: len(seq_counts(db, base, base + len(msgs))) > 300, 30, "rows")
        connects = ing.stats.connects
        _block(own_pg)
        stopped = time.monotonic()
        while time.monotonic() - stopped < OUTAGE_S:
            unhealthy_seen |= not health(ing.stats)[0]
            time.sleep(0.5)
        held = ing.stats.snapshot().in_flight
        _start(own_pg)
        pub.join(timeout=OUTAGE_S + 120)
        assert not pub.is_alive(), "the publisher did not finish"
        wait_for(
            lambda: (
                ing.stats.snapshot().in_flight == 0
                and len(seq_counts(db, base, base + len(msgs))) >= len(msgs)
            ),
            120,
            "everything committed after the outage",
        )
        snap = ing.stats.snapshot()
        healthy_after = health(ing.stats)[0]
    finally:
        ing.stop()
    print(
        f"\noutage {OUTAGE_S:.0f} s at {RATE} msg/s: {len(msgs)} published, "
        f"held unacknowledged at the end of the outage {held}, redelivered "
        f"{ing.stats.redelivered}, reconnects {ing.stats.connects - connects}, "
        f"pauses {ing.stats.pauses}, Receive Maximum {ing.receive_maximum}"
    )
    assert_exactly_once(db, msgs, base)
    assert unhealthy_seen and healthy_after
    # The session stayed up: no reconnect, so the broker redelivered nothing.
    assert ing.stats.connects == connects
    assert ing.stats.redelivered == 0
    assert snap.balanced
