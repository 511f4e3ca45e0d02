"""Helpers for the ingester tests: settings for a unique topic root, a QoS 1
publisher that waits for every PUBACK, and exact counts from the database."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
import psycopg2
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from occupancy.settings import Settings, load_settings

KEY = "test-pseudonym-key-0123456789"
SITE = "hq"
DESKS = [f"ds-f0-operations-d{i:03d}" for i in range(1, 21)]


def make_settings(
    database_url: str, mqtt_url: str, topic_root: str, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "mqtt_url": mqtt_url,
        "topic_root": topic_root,
        "ingest_topics": [f"{topic_root}/#"],
        "ingest_group": "",
        "ingest_client_id": f"ingest-{uuid.uuid4().hex[:10]}",
        "pseudonym_key": KEY,
        "metrics_port": 0,
        "site": SITE,
        "batch_size": 200,
    }
    values.update(extra)
    return load_settings(values, environ={})


def our_messages(
    topic_root: str, seq_base: int, n: int, devices: list[str] = DESKS
) -> list[tuple[str, bytes]]:
    """``n`` presence messages spread over ``devices``, seq from ``seq_base``."""
    now = dt.datetime.now(dt.UTC)
    out = []
    for i in range(n):
        dev = devices[i % len(devices)]
        ts = (now + dt.timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z")
        body = {"ts": ts, "seq": seq_base + i, "occupied": i % 2 == 0}
        out.append((f"{topic_root}/{SITE}/{dev}/presence", json.dumps(body).encode()))
    return out


def publish(
    mqtt_url: str,
    messages: Iterable[tuple[str, bytes]],
    *,
    timeout_s: float = 60.0,
    retry: bool = False,
) -> int:
    """Publish with QoS 1 and wait for every PUBACK; with ``retry`` reconnect
    and resend what was not acknowledged (broker restarts). Returns the count."""
    from occupancy.settings import parse_mqtt_url

    url = parse_mqtt_url(mqtt_url)
    todo = list(messages)
    deadline = time.monotonic() + timeout_s
    while todo:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"pub-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        if url.username:
            client.username_pw_set(url.username, url.password)
        try:
            client.connect(url.host, url.port, keepalive=10)
        except OSError:
            if not retry or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        client.loop_start()
        infos = [(m, client.publish(m[0], m[1], qos=1)) for m in todo]
        failed = []
        for m, info in infos:
            left = max(0.1, deadline - time.monotonic())
            try:
                info.wait_for_publish(timeout=left if not retry else min(left, 5.0))
            except (RuntimeError, ValueError):
                pass
            try:
                ok = info.is_published()
            except RuntimeError:  # not connected: resend on a new connection
                ok = False
            if not ok:
                failed.append(m)
        client.disconnect()
        client.loop_stop()
        if failed and (not retry or time.monotonic() > deadline):
            raise AssertionError(
                f"{len(failed)} of {len(todo)} publishes not acknowledged"
            )
        todo = failed
    return 0


def seq_counts(
    database_url: str, seq_min: int, seq_max: int
) -> dict[tuple[str, int], int]:
    """How often each (device, seq) of presence events in [seq_min, seq_max] is stored."""
    conn = psycopg2.connect(database_url, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT device_id, seq, count(*) FROM sensor_events "
                "WHERE kind = 'presence' AND seq BETWEEN %s AND %s GROUP BY 1, 2",
                (seq_min, seq_max),
            )
            return {(r[0], int(r[1])): int(r[2]) for r in cur.fetchall()}
    finally:
        conn.close()


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``predicate`` until true or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def assert_exactly_once(
    database_url: str, messages: list[tuple[str, bytes]], seq_base: int
) -> None:
    expected = {(t.split("/")[-2], json.loads(p)["seq"]) for t, p in messages}
    got = seq_counts(database_url, seq_base, seq_base + len(messages) - 1)
    missing = expected - set(got)
    doubles = {k: v for k, v in got.items() if v != 1}
    assert not missing, f"{len(missing)} events lost, e.g. {sorted(missing)[:3]}"
    assert not doubles, f"{len(doubles)} events stored more than once"
    assert len(got) == len(expected)


def query(url: str, q: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one SQL query ``q`` (with ``params``) on a fresh connection."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(q, params)
            return cur.fetchall()
    finally:
        conn.close()
