"""Abuse and bad input: the per-device rate limit, the age horizon, a value
psycopg2 refuses (NUL in an ESPHome discovery name) isolated like any poison
row, and a /health that turns 503 when batches keep failing."""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.error
import urllib.request
from typing import Any

import pytest
from ingest_helpers import SITE, make_settings, publish, query, wait_for

from ingest.decoders.common import Decoded
from ingest.limits import Admission
from ingest.service import Ingester
from occupancy.events import Event, Kind

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _presence(device: str, ts: dt.datetime) -> Decoded:
    ev = Event(ts=ts, device_id=device, kind=Kind.PRESENCE, value=1.0, seq=1)
    return Decoded(events=(ev,), device_id=device)


def test_rate_limit_is_a_token_bucket_per_device() -> None:
    adm = Admission(rate_per_s=2.0, burst=3, max_age_s=0)
    t = T0.timestamp()
    verdicts = [adm.check(_presence("a", T0), t, T0).rejection for _ in range(5)]
    reasons = [v.reason if v else "ok" for v in verdicts]
    assert reasons == ["ok", "ok", "ok", "rate_limited", "rate_limited"]
    # another device has its own bucket
    assert adm.check(_presence("b", T0), t, T0).rejection is None
    # 1 s later: 2 tokens back
    later = [adm.check(_presence("a", T0), t + 1.0, T0).rejection for _ in range(3)]
    assert [v is None for v in later] == [True, True, False]
    off = Admission(rate_per_s=0, burst=1, max_age_s=0)
    assert all(
        off.check(_presence("a", T0), t, T0).rejection is None for _ in range(50)
    )


def test_a_message_prepared_again_is_judged_once() -> None:
    """A batch prepared again after a failed commit spends no second token."""
    adm = Admission(rate_per_s=1.0, burst=1, max_age_s=0)
    t = T0.timestamp()
    assert adm.check(_presence("a", T0), t, T0, key=1).rejection is None
    assert adm.check(_presence("a", T0), t, T0, key=1).rejection is None  # same one
    second = adm.check(_presence("a", T0), t, T0, key=2).rejection
    assert second is not None and second.reason == "rate_limited"
    adm.forget([1, 2])
    again = adm.check(_presence("a", T0), t, T0, key=2).rejection
    assert again is not None  # judged afresh: still no token at the same time


def test_device_times_beyond_the_horizon_are_refused() -> None:
    adm = Admission(rate_per_s=0, burst=1, max_age_s=7 * 86400)
    t = T0.timestamp()
    old = adm.check(_presence("a", dt.datetime(1970, 1, 1, tzinfo=dt.UTC)), t, T0)
    assert old.rejection is not None and old.rejection.reason == "too_old"
    assert "1970-01-01" in old.rejection.detail and old.device_id == "a"
    six_days = adm.check(_presence("a", T0 - dt.timedelta(days=6)), t, T0)
    assert six_days.rejection is None
    eight = adm.check(_presence("a", T0 - dt.timedelta(days=8)), t, T0)
    assert eight.rejection is not None and eight.rejection.reason == "too_old"
    none = Admission(rate_per_s=0, burst=1, max_age_s=0)
    assert none.check(_presence("a", T0.replace(year=1970)), t, T0).rejection is None


def _health(ing: Ingester) -> int:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{ing.metrics_port}/health", timeout=5
        ) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.integration
def test_poison_values_are_isolated_and_the_rest_stored(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    """In one stream: an ESPHome discovery whose name has a NUL (psycopg2
    refuses it before sending; this one made a batch retry forever), a seq
    beyond bigint (the decoder refuses it; a row the database refuses is
    tests/ingest/test_ingest_cli.py), an event dated 1970 and a device over
    its rate limit. The good
    messages are stored, each bad one rejected with its reason, the ingester
    stays healthy."""
    settings = make_settings(
        database_url,
        mqtt_server.url,
        topic_root,
        ingest_topics=[f"{topic_root}/#", "esphome/discover/#"],
        device_rate_limit_per_s=1.0,
        device_rate_burst=5,
        max_event_age_days=30,
    )
    ing = Ingester(settings, metrics_port=_free_port())
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    base = random.randrange(10**9, 2 * 10**9)
    now = dt.datetime.now(dt.UTC)
    node = f"nul-node-{base}"

    def ours(dev: str, seq: int, ts: dt.datetime = now) -> tuple[str, bytes]:
        body = {"ts": ts.isoformat(), "seq": seq, "occupied": True}
        return f"{topic_root}/{SITE}/{dev}/presence", json.dumps(body).encode()

    good = [ours(f"ds-f0-operations-d{i + 1:03d}", base + i) for i in range(10)]
    flood = [ours("ds-f0-operations-d020", base + 100 + i) for i in range(12)]
    poison = [
        (f"esphome/discover/{node}", json.dumps({"name": f"{node}\u0000x"}).encode()),
        ours("ds-f0-operations-d011", 10**19),  # > bigint
        ours(
            "ds-f0-operations-d012", base + 50, dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
        ),
    ]
    try:
        publish(mqtt_server.url, good[:5] + poison + good[5:] + flood)
        assert ing.wait_idle(0.5, timeout=30)
        snap = ing.stats.snapshot()
        status = _health(ing)
    finally:
        ing.stop()
    stored = query(
        database_url,
        "SELECT seq FROM sensor_events WHERE seq BETWEEN %s AND %s",
        (base, base + 200),
    )
    assert sorted(r[0] for r in stored) == sorted(
        [base + i for i in range(10)] + [base + 100 + i for i in range(5)]
    )
    rows = query(
        database_url,
        "SELECT reason, topic FROM rejected_messages WHERE topic LIKE %s OR topic = %s",
        (f"{topic_root}/%", f"esphome/discover/{node}"),
    )
    reasons = sorted(r[0] for r in rows)
    assert reasons == ["bad_value", "db_refused", "too_old"]
    assert snap.reasons == {
        "bad_value": 1,
        "db_refused": 1,
        "too_old": 1,
        "rate_limited": 7,
    }
    assert snap.in_flight == 0 and snap.balanced
    assert status == 200


@pytest.mark.integration
def test_health_is_503_while_batches_keep_failing(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    settings = make_settings(
        database_url, mqtt_server.url, topic_root, unhealthy_after_failures=3
    )
    ing = Ingester(settings, metrics_port=_free_port())
    real = ing._writer.commit
    failing = {"on": True}

    def commit(batch: Any, devices: Any) -> Any:
        if failing["on"]:
            raise RuntimeError("injected: this batch cannot be written")
        return real(batch, devices)

    ing._writer.commit = commit  # type: ignore[method-assign]
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    try:
        assert _health(ing) == 200
        dev = "ds-f0-operations-d001"
        body = json.dumps({"seq": random.randrange(10**9), "occupied": True})
        publish(
            mqtt_server.url, [(f"{topic_root}/{SITE}/{dev}/presence", body.encode())]
        )
        wait_for(lambda: ing.stats.consecutive_failures >= 3, 30, "three failures")
        assert _health(ing) == 503
        failing["on"] = False
        wait_for(lambda: ing.stats.snapshot().in_flight == 0, 30, "the commit")
        assert _health(ing) == 200
    finally:
        ing.stop()


def _free_port() -> int:
    from app.services import free_port

    return free_port()


def test_a_backlog_is_judged_by_the_times_the_device_sent_it() -> None:
    """An ingester away for 100 s gets a device's queued 100 s at once: sent at
    the allowed rate, it is all admitted; a flood in the same burst is not."""
    adm = Admission(rate_per_s=10.0, burst=20, max_age_s=0, catch_up_s=900)
    back = T0.timestamp() + 100.0  # everything arrives now
    sent = [T0 + dt.timedelta(seconds=i / 10) for i in range(1000)]  # 10/s
    verdicts = [adm.check(_presence("a", ts), back, T0).rejection for ts in sent]
    assert all(v is None for v in verdicts)
    # the same 100 s claimed again by a flood: the device clock no longer moves
    again = [adm.check(_presence("a", ts), back, T0).rejection for ts in sent]
    admitted = sum(v is None for v in again)
    assert 1 <= admitted <= 20  # what was left of the burst, nothing more


def test_a_device_faking_old_times_gains_at_most_the_catch_up_once() -> None:
    adm = Admission(rate_per_s=1.0, burst=5, max_age_s=0, catch_up_s=60)
    now = T0.timestamp()
    # times far back: each clamped to 60 s behind arrival, the clock moves once
    fakes = [T0 - dt.timedelta(days=1) + dt.timedelta(minutes=i) for i in range(500)]
    ok = sum(adm.check(_presence("z", ts), now, T0).rejection is None for ts in fakes)
    assert ok == 5  # the burst; clamped times never move the device clock
    # ascending times inside the window: at most 60 s x 1/s more, once
    adm2 = Admission(rate_per_s=1.0, burst=5, max_age_s=0, catch_up_s=60)
    inside = [T0 - dt.timedelta(seconds=60 - i * 0.01) for i in range(6000)]
    ok2 = sum(
        adm2.check(_presence("z", ts), now, T0).rejection is None for ts in inside
    )
    assert 5 + 59 <= ok2 <= 5 + 60
    # and a clock ahead of arrival counts as arrival
    adm3 = Admission(rate_per_s=1.0, burst=1, max_age_s=0)
    ahead = [T0 + dt.timedelta(hours=i) for i in range(10)]
    ok3 = sum(adm3.check(_presence("y", ts), now, T0).rejection is None for ts in ahead)
    assert ok3 == 1
