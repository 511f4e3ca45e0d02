"""The in-process ingester against the real Mosquitto and TimescaleDB."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from typing import Any

import psycopg2
import pytest
from ingest_helpers import (
    KEY,
    SITE,
    assert_exactly_once,
    make_settings,
    our_messages,
    publish,
    query,
    wait_for,
)

from ingest.redelivery import Msg
from ingest.service import Ingester, IngestError
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration


def test_ingests_each_message_once_and_accounts_for_all(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    settings = make_settings(database_url, mqtt_server.url, topic_root)
    ing = Ingester(settings)
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    try:
        base = random.randrange(10**9, 2 * 10**9)
        msgs = our_messages(topic_root, base, 500)
        # The same 100 messages again: redeliveries must not be stored twice.
        publish(mqtt_server.url, msgs + msgs[:100])
        bad = [
            (f"{topic_root}/{SITE}/ds-f0-operations-d001/presence", b"{not json"),
            (f"{topic_root}/{SITE}/no-such-device/presence", b'{"occupied":true}'),
            (
                f"{topic_root}/{SITE}/ds-f0-operations-d001/battery",
                b'{"seq":1,"battery":55}',
            ),
        ]
        publish(mqtt_server.url, bad)
        assert ing.wait_idle(0.5, timeout=30)
        snap = ing.stats.snapshot()
    finally:
        ing.stop()
    assert_exactly_once(database_url, msgs, base)
    assert snap.received == 603
    assert snap.accepted == 601 and snap.rejected == 2 and snap.in_flight == 0
    assert snap.inserted == 501  # 500 presence + 1 battery
    assert snap.duplicates == 100
    assert snap.balanced
    rows = query(
        database_url,
        "SELECT reason, device_id FROM rejected_messages WHERE topic LIKE %s ORDER BY reason",
        (topic_root + "/%",),
    )
    assert rows == [
        ("bad_json", "ds-f0-operations-d001"),
        ("unknown_device", "no-such-device"),
    ]
    stats = query(
        database_url,
        "SELECT received, accepted, rejected, ignored, events_inserted, events_duplicate "
        "FROM ingest_stats WHERE client_id = %s",
        (settings.ingest_client_id,),
    )
    assert stats == [(603, 601, 2, 0, 501, 100)]
    health = query(
        database_url,
        "SELECT battery_pct, online FROM device_health WHERE device_id = 'ds-f0-operations-d001'",
    )
    assert health == [(55.0, True)]
    space = query(
        database_url,
        "SELECT DISTINCT space_id FROM sensor_events WHERE device_id = 'ds-f0-operations-d002' "
        "AND seq >= %s",
        (base,),
    )
    assert space == [("f0-operations-d002",)]


def test_metrics_endpoint_and_discovery(
    database_url: str, mqtt_server: Any, topic_prefix: str
) -> None:
    settings = make_settings(
        database_url,
        mqtt_server.url,
        f"{topic_prefix}/occupancy",
        ingest_topics=["zigbee2mqtt/+/availability", f"{topic_prefix}/occupancy/#"],
    )
    ing = Ingester(settings, metrics_port=_free_port())
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    try:
        dev = f"new-z2m-{random.randrange(10**6)}"
        seq = random.randrange(10**9)
        known = f"{topic_prefix}/occupancy/{SITE}/ds-f0-operations-d003/presence"
        publish(
            mqtt_server.url,
            [
                (f"zigbee2mqtt/{dev}/availability", b'{"state":"online"}'),
                (known, json.dumps({"seq": seq, "occupied": True}).encode()),
            ],
        )
        wait_for(
            lambda: bool(
                query(
                    database_url, "SELECT 1 FROM devices WHERE device_id = %s", (dev,)
                )
                and query(
                    database_url, "SELECT 1 FROM sensor_events WHERE seq = %s", (seq,)
                )
                and ing.stats.snapshot().in_flight == 0
            ),
            20,
            "both messages committed",
        )
        with urllib.request.urlopen(
            f"http://127.0.0.1:{ing.metrics_port}/metrics", timeout=5
        ) as r:
            text = r.read().decode()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{ing.metrics_port}/health", timeout=5
        ) as r:
            assert r.status == 200
    finally:
        ing.stop()
    assert "occupancy_ingest_messages_received_total" in text
    assert 'occupancy_ingest_messages_rejected_total{reason="unknown_device"}' in text
    assert 'device_last_seen_timestamp_seconds{device="ds-f0-operations-d003"}' in text
    # Unknown ids get no per-device series (they would grow without bound).
    assert f'device="{dev}"' not in text
    rows = query(
        database_url,
        "SELECT family, assigned FROM devices WHERE device_id = %s",
        (dev,),
    )
    assert rows == [("zigbee2mqtt", False)]


def _free_port() -> int:
    from app.services import free_port

    return free_port()


def test_refuses_to_start_without_key(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    settings = make_settings(
        database_url, mqtt_server.url, topic_root, pseudonym_key=None
    )
    with pytest.raises(IngestError, match="OCCUPANCY_PSEUDONYM_KEY"):
        Ingester(settings)


def test_badges_are_pseudonymised(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    from occupancy.pseudonym import pseudonymise

    settings = make_settings(database_url, mqtt_server.url, topic_root)
    ing = Ingester(settings)
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    try:
        seq = random.randrange(10**9)
        body = {"seq": seq, "beacons": [{"id": "badge-RAW-0042", "rssi": -67}]}
        publish(
            mqtt_server.url,
            [(f"{topic_root}/{SITE}/ble-f0-hr/ble", json.dumps(body).encode())],
        )
        assert ing.wait_idle(0.3, timeout=20)
    finally:
        ing.stop()
    rows = query(
        database_url,
        "SELECT badge, zone_id, rssi FROM badge_sightings WHERE seq = %s",
        (seq,),
    )
    assert rows == [(pseudonymise(KEY, "badge-raw-0042"), "f0-hr", -67.0)]
    dump = query(
        database_url,
        "SELECT count(*) FROM badge_sightings WHERE lower(badge) LIKE %s",
        ("%raw%",),
    )
    assert dump == [(0,)]


def test_metrics_host_setting(database_url: str, mqtt_server: Any) -> None:
    """metrics_host: default 127.0.0.1, from the environment, overridden by the
    argument; the endpoint listens there ("localhost" resolves to 127.0.0.1)."""
    base = make_settings(database_url, mqtt_server.url, "t/mh/occupancy")
    assert Ingester(base).metrics_host == "127.0.0.1"
    env = load_settings(
        {"pseudonym_key": "k"}, environ={"OCCUPANCY_METRICS_HOST": "0.0.0.0"}
    )
    assert env.metrics_host == "0.0.0.0"
    assert Ingester(env).metrics_host == "0.0.0.0"
    assert Ingester(env, metrics_host="127.0.0.1").metrics_host == "127.0.0.1"
    ing = Ingester(base.replace(metrics_host="localhost"), metrics_port=_free_port())
    ing.start()
    try:
        assert ing.metrics_host == "localhost"
        with urllib.request.urlopen(
            f"http://127.0.0.1:{ing.metrics_port}/health", timeout=5
        ) as r:
            assert r.read().startswith((b"ok", b"degraded"))
    except urllib.error.HTTPError as exc:  # 503 while the broker connects
        assert exc.code == 503
    finally:
        ing.stop()


def _arrival_messages(topic_root: str, n: int) -> list[tuple[str, bytes]]:
    """``n`` presence messages with neither a device time nor a sequence
    number: their event time is the arrival time."""
    return [
        (
            f"{topic_root}/{SITE}/ds-f0-operations-d{i % 20 + 1:03d}/presence",
            json.dumps({"occupied": i % 2 == 0}).encode(),
        )
        for i in range(n)
    ]


def test_redelivery_after_commit_keeps_the_first_arrival_time(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    """The ingester commits a batch and dies before the broker got the PUBACKs:
    the broker redelivers (DUP flag, same packet ids) to the restarted ingester
    (same client id). Messages without device time or sequence number are still
    stored once: the redelivery gets its first arrival time back."""
    settings = make_settings(database_url, mqtt_server.url, topic_root)
    msgs = _arrival_messages(topic_root, 300)
    first = Ingester(settings)
    # The acknowledgements are lost (as when the process dies right after the
    # commit): nothing is acknowledged, so the broker redelivers everything.
    first._client.ack_many = lambda mids: None  # type: ignore[method-assign]
    first.start()
    wait_for(lambda: first.stats.subscribed, 20, "SUBACK")
    try:
        publish(mqtt_server.url, msgs)
        wait_for(lambda: first.stats.snapshot().accepted == 300, 30, "first commit")
    finally:
        first.stop()
    second = Ingester(settings)
    second.start()
    try:
        wait_for(lambda: second.stats.snapshot().received == 300, 30, "redelivery")
        assert second.wait_idle(0.5, timeout=30)
        snap = second.stats.snapshot()
    finally:
        second.stop()
    assert snap.accepted == 300 and snap.duplicates == 300 and snap.inserted == 0
    rows = query(
        database_url,
        "SELECT count(*), count(DISTINCT (device_id, ts)) FROM sensor_events "
        "WHERE seq = -1 AND kind = 'presence' AND ts_source = 'arrival' "
        "AND received_at >= (SELECT min(r) FROM ingest_arrival_batches, "
        "unnest(received_at) AS r WHERE client_id = %s)",
        (settings.ingest_client_id,),
    )
    assert rows == [(300, 300)]
    stats = query(
        database_url,
        "SELECT received, events_inserted, events_duplicate FROM ingest_stats "
        "WHERE client_id = %s",
        (settings.ingest_client_id,),
    )
    assert stats == [(600, 300, 300)]


def test_a_stored_arrival_is_trusted_only_within_the_window(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    """A stored arrival for the same packet id and message is used for a DUP
    message only when it is recent (its packet id cannot have been reused since);
    a non-DUP message never looks it up."""
    import datetime as dt

    from ingest.service import _digest

    settings = make_settings(
        database_url, mqtt_server.url, topic_root, batch_size_max=200
    )
    ing = Ingester(settings)
    cid = settings.ingest_client_id
    topic, payload = _arrival_messages(topic_root, 1)[0]
    digest = _digest(topic.encode(), payload)
    first = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        # one committed batch: ids 7 (this message) and 8 (another message);
        # id 9 held this message at 600, then another one at 1000
        cur.execute(
            "INSERT INTO ingest_arrival_batches VALUES (%s, 600, '{9}', '{600}', "
            "ARRAY[%s], ARRAY[%s]), (%s, 1000, '{7,8,9}', '{1000,1000,1000}', "
            "ARRAY[%s, %s, %s], ARRAY[%s, %s, %s])",
            (
                cid,
                digest,
                first,
                cid,
                digest,
                digest + 1,
                digest + 2,
                first,
                first,
                first,
            ),
        )
    conn.close()
    window = ing._recall_window  # 4 × Receive Maximum = 2400 here
    assert window == 4 * 3 * 200
    msg = Msg(topic.encode(), payload, 1.0e9, 7, 1, 1, True)
    try:
        ing._position = 1000 + window - 1  # recent: trusted
        assert ing._recall([msg]) == {0: first.timestamp()}
        ing._position = 1000 + window  # packet id may have been reused
        assert ing._recall([msg]) == {}
        ing._position = 1000
        assert ing._recall([msg._replace(dup=False)]) == {}  # not a redelivery
        other = Msg(topic.encode(), payload, 1.0e9, 8, 1, 1, True)
        assert ing._recall([other]) == {}  # another message under that id
        reused = Msg(topic.encode(), payload, 1.0e9, 9, 1, 1, True)
        assert ing._recall([reused]) == {}  # the latest message under id 9 differs
        # the first copy earlier in the same batch (the commit failed before)
        again = [
            Msg(*msg[:2], 5.0, 9, 1, 1, False),
            Msg(*msg[:2], 6.0, 9, 1, 2, True),
        ]
        assert ing._recall(again) == {1: 5.0}
    finally:
        ing._writer.close()
