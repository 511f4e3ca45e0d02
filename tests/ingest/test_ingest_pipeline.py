"""The pipelined worker (one batch in the database while the next is prepared)
and the device-health buffer, against the real TimescaleDB."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import psycopg2
import pytest
from ingest_helpers import SITE, make_settings, query

from ingest import registry
from ingest.batch import HealthBuffer, merge_health
from ingest.batch import HealthRow as H
from ingest.context import DecodeContext, DeviceInfo
from ingest.redelivery import Msg
from ingest.registry import decode_message
from ingest.service import Ingester, build_context
from ingest.writer import Item, Writer

from conftest import SHARED_PAYLOADS

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_health_buffer_merges_as_the_upsert_does() -> None:
    a, b = T0, T0 + dt.timedelta(seconds=1)
    older = {"d1": H(b, 80.0, True), "d2": H(a, None, None)}
    merge_health(
        older, {"d1": H(a, None, False), "d2": H(b, 50.0, None), "d3": H(a, 1.0, True)}
    )
    # d1: last_seen stays the later b; battery kept (new is null); online: newest
    assert older == {
        "d1": H(b, 80.0, False),
        "d2": H(b, 50.0, None),
        "d3": H(a, 1.0, True),
    }
    buf = HealthBuffer(5.0)
    buf.add({"d1": H(a, 90.0, True)})
    assert buf.take(100.0) == {"d1": H(a, 90.0, True)}  # the first is due at once
    buf.add({"d1": H(b, None, None)})
    assert buf.take(104.9) == {}  # 4.9 s later: not yet
    buf.add({"d2": H(a, None, False)})
    taken = buf.take(105.0)
    assert taken == {"d1": H(b, None, None), "d2": H(a, None, False)}
    # the write of ``taken`` failed while newer rows arrived: put it back under them
    buf.add({"d1": H(a, 70.0, None)})
    buf.restore(taken)
    assert buf.take(105.1, force=True) == {
        "d1": H(b, 70.0, None),
        "d2": H(a, None, False),
    }
    assert buf.take(200.0, force=True) == {}


def test_cached_family_is_the_family_the_matchers_give() -> None:
    """``family_for`` remembers a topic's family per topic root; for every real
    topic (and ours under two roots, and a building-file topic override) it
    gives what walking the matchers gives, on first sight and from the cache."""
    topics = [m["topic"] for m in json.loads(SHARED_PAYLOADS.read_text())]
    topics += ["a/hq/d1/presence", "b/hq/d1/presence", "nothing/matches/this"]
    override = DeviceInfo("desk-x", family="esphome", topic="a/hq/d1/presence")
    for ctx in (
        DecodeContext(topic_root="a"),
        DecodeContext(topic_root="b"),
        DecodeContext.from_devices([override], topic_root="a"),
    ):
        registry._FAMILIES.clear()
        for topic in topics * 2:
            found = registry.family_for(topic, ctx)
            if topic in ctx.topic_overrides:
                assert found is not None and found.name == "esphome"
                continue
            walked = [f for f in registry.FAMILIES if f.matches(topic, ctx)]
            assert found is (walked[0] if walked else None), topic
    ours = registry.family_for("a/hq/d1/presence", DecodeContext(topic_root="a"))
    other = registry.family_for("a/hq/d1/presence", DecodeContext(topic_root="b"))
    assert ours is not None and ours.name == "occupancy"
    assert other is None or other.name != "occupancy"


def test_prepared_rows_are_the_events_of_the_real_messages() -> None:
    """The COPY text :func:`ingest.batch.prepare` builds (the arrival time
    formatted once for arrival-stamped events) holds exactly each accepted
    event of the real sample messages, field by field."""
    from ingest.batch import prepare
    from occupancy.events import Kind

    ctx = DecodeContext(pseudonym_key="k", max_clock_skew_s=300.0)
    at = dt.datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=dt.UTC)
    items = []
    for m in json.loads(SHARED_PAYLOADS.read_text()):
        payload = m["payload"]
        raw = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        items.append(
            Item(m["topic"], raw, at, decode_message(m["topic"], raw, at, ctx))
        )
    batch = prepare(items, {}, len(items))
    want_events, want_badges = [], []
    for item in items:
        for e in item.result.events if item.result.rejection is None else ():
            value = e.rssi if e.kind is Kind.BADGE else e.value
            row = (
                e.ts,
                e.device_id,
                e.badge if e.kind is Kind.BADGE else e.kind.value,
                value,
                e.seq,
                e.ts_source.value,
                e.family,
                at,
            )
            (want_badges if e.kind is Kind.BADGE else want_events).append(row)

    def parse(text: str) -> list[tuple[Any, ...]]:
        out = []
        for line in text.splitlines():
            f = line.split("\t")
            value = None if f[4] == r"\N" else float(f[4])
            out.append(
                (
                    dt.datetime.fromisoformat(f[0]),
                    f[1],
                    f[3],
                    value,
                    int(f[5]),
                    f[6],
                    f[7],
                    dt.datetime.fromisoformat(f[8]),
                )
            )
        return out

    assert want_events and want_badges
    assert parse(batch.events) == want_events
    assert parse(batch.badges) == want_badges
    assert batch.n_events == len(want_events) and batch.n_badges == len(want_badges)


def _own(
    root: str, dev: str, kind: str, body: dict[str, Any] | str
) -> tuple[str, bytes]:
    payload = body if isinstance(body, str) else json.dumps(body)
    return f"{root}/{SITE}/{dev}/{kind}", payload.encode()


def test_deferred_device_health_equals_an_upsert_per_batch(
    database_url: str, topic_root: str
) -> None:
    """The ingester writes device_health every few seconds, merged in memory;
    the table ends the same as with an upsert after every batch (the previous
    behaviour): latest last_seen, newest battery and online state."""
    devs = [f"ds-f0-operations-d{i:03d}" for i in (1, 2, 3)]
    msgs: list[tuple[str, bytes, dt.datetime]] = []
    for n in range(60):
        dev = devs[n % 3]
        at = T0 + dt.timedelta(seconds=n)
        ts = at.isoformat()
        if n % 7 == 0:
            t, p = _own(
                topic_root, dev, "heartbeat", {"ts": ts, "seq": n, "battery": 90 - n}
            )
        elif n % 11 == 0:
            t, p = _own(topic_root, dev, "status", "offline" if n % 2 else "online")
        else:
            t, p = _own(
                topic_root, dev, "presence", {"ts": ts, "seq": n, "occupied": True}
            )
        msgs.append((t, p, at))
    # the last word of d002: offline (any other message means online)
    t, p = _own(topic_root, devs[1], "status", "offline")
    msgs.append((t, p, T0 + dt.timedelta(seconds=60)))
    settings = make_settings(database_url, "mqtt://127.0.0.1:1", topic_root)
    writer = Writer(database_url, client_id="health-equivalence")
    devices = {d.device_id: d for d in writer.load_devices()}
    ctx = build_context(settings, list(devices.values()))
    items = [Item(t, p, at, decode_message(t, p, at, ctx)) for t, p, at in msgs]
    batches = [items[i : i + 8] for i in range(0, len(items), 8)]
    read = (
        "SELECT device_id, last_seen, battery_pct, online FROM device_health "
        "WHERE device_id = ANY(%s) ORDER BY device_id"
    )
    try:
        for batch in batches:  # the previous behaviour: an upsert per batch
            writer.write(batch, devices, len(batch))
        per_batch = query(database_url, read, (devs,))
        conn = psycopg2.connect(database_url)
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM device_health WHERE device_id = ANY(%s)", (devs,))
        conn.close()
        buf = HealthBuffer(3600.0)
        for batch in batches:
            prepared = writer.prepare(batch, devices, len(batch))
            buf.add(prepared.health)
            prepared.health = buf.take(0.0)  # only the first batch is due
            writer.commit(prepared, devices)
        writer.write_health(buf.take(1.0, force=True))
        deferred = query(database_url, read, (devs,))
    finally:
        writer.close()
    assert per_batch == deferred
    # worked out by hand: d001 saw n = 0, 3, ..., 57 and its last heartbeat
    # (with battery 90 - n) was n = 42: 48 %; d002 last spoke at 60 s (offline),
    # d003 at n = 59
    last = {devs[0]: 57, devs[1]: 60, devs[2]: 59}
    assert [r[1] for r in deferred] == [
        T0 + dt.timedelta(seconds=last[d]) for d in devs
    ]
    assert deferred[0][2] == 48.0
    assert [r[3] for r in deferred] == [True, False, True]


def _arrival(root: str, i: int) -> tuple[str, bytes]:
    """No device time, no sequence number: the event time is the arrival."""
    return _own(
        root, f"ds-f0-operations-d{i % 20 + 1:03d}", "presence", {"occupied": True}
    )


def test_database_lost_with_a_batch_in_flight_and_the_next_prepared(
    database_url: str, topic_root: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Batch 2 is in the database while batch 3 has been prepared; the database
    connection dies under batch 2. Both are prepared again and written: every
    event is stored exactly once, every message acknowledged once and in order,
    the positions recorded for arrival-stamped messages are their places in the
    stream, and the accounting adds up."""
    settings = make_settings(
        database_url,
        "mqtt://127.0.0.1:1",
        topic_root,
        device_health_interval_s=0,
        batch_size_max=200,  # fixed batches of 200
    )
    ing = Ingester(settings)
    acks: list[int] = []
    ing._client.ack_many = acks.extend  # type: ignore[method-assign]
    ing._reload_devices()
    n = 1000  # 5 batches of 200; every third message is arrival-stamped
    msgs: list[tuple[str, bytes]] = []
    for i in range(n):
        if i % 3 == 0:
            msgs.append(_arrival(topic_root, i))
        else:
            dev = f"ds-f0-operations-d{i % 20 + 1:03d}"
            ts = (T0 + dt.timedelta(milliseconds=i)).isoformat()
            msgs.append(
                _own(
                    topic_root,
                    dev,
                    "presence",
                    {"ts": ts, "seq": 5_000_000 + i, "occupied": False},
                )
            )
    arrival0 = time.time()
    for i, (t, p) in enumerate(msgs):
        ing._queue.put(Msg(t.encode(), p, arrival0 + i * 1e-3, i + 1, 1, 0, False))
    ing.stats.received = n

    prepared_third = threading.Event()
    real_prepare, real_commit = ing._prepare, ing._writer.commit
    calls = {"prepare": 0, "commit": 0}

    def prepare(batch: Any, ahead: int) -> Any:
        calls["prepare"] += 1
        out = real_prepare(batch, ahead)
        if calls["prepare"] == 3:
            assert ahead == 200  # batch 2 is in flight
            prepared_third.set()
        return out

    def commit(batch: Any, devices: Any) -> Any:
        calls["commit"] += 1
        if calls["commit"] == 2:
            assert prepared_third.wait(10)
            conn = psycopg2.connect(database_url)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (f"ingest:{settings.ingest_client_id}",),
                )
                assert cur.fetchall() == [(True,)]
            conn.close()
        return real_commit(batch, devices)

    ing._prepare = prepare  # type: ignore[method-assign]
    ing._writer.commit = commit  # type: ignore[method-assign]
    worker = threading.Thread(target=ing._run, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while ing.stats.snapshot().in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        snap = ing.stats.snapshot()
    finally:
        ing._stop.set()
        worker.join(10)
        ing._writer.close()
    # batches 1, 2 (lost), 2 + 3 again as one, 4, 5
    assert calls["commit"] == 5
    assert sum("database down" in r.getMessage() for r in caplog.records) == 1
    assert acks == list(range(1, n + 1))  # each once, in order
    assert snap.in_flight == 0 and snap.accepted == n and snap.balanced
    assert snap.inserted == n and snap.duplicates == 0
    seqs = query(
        database_url,
        "SELECT count(*), count(DISTINCT seq) FROM sensor_events WHERE seq >= 5000000",
    )
    assert seqs == [(n - 334, n - 334)]  # 334 of the 1000 are arrival-stamped
    arrivals = query(
        database_url,
        "SELECT count(*), count(DISTINCT (device_id, ts)) FROM sensor_events "
        "WHERE seq = -1 AND ts_source = 'arrival' AND ts >= to_timestamp(%s)",
        (arrival0 - 1e-3,),
    )
    assert arrivals == [(334, 334)]
    positions = query(
        database_url,
        "SELECT a.mid, a.position FROM ingest_arrival_batches, "
        "unnest(mids, positions) AS a(mid, position) WHERE client_id = %s "
        "ORDER BY a.mid",
        (settings.ingest_client_id,),
    )
    # message i (mid i + 1) is the (i + 1)-th received: position = mid
    assert positions == [(i + 1, i + 1) for i in range(0, n, 3)]
    stats = query(
        database_url,
        "SELECT received, accepted, events_inserted, events_duplicate FROM ingest_stats "
        "WHERE client_id = %s",
        (settings.ingest_client_id,),
    )
    assert stats == [(n, n, n, 0)]
