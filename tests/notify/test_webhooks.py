"""Webhooks end to end: live state changes from real events in PostgreSQL,
debounced, signed, delivered to a real HTTP receiver, which is down for 30 s
and then gets every event, in order per space; a dead receiver disables its
subscription after the configured run of failures."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import main
from app.services import free_port
from notify.livewatch import state_changes
from notify.service import Notifier
from notify.webhooks import DeliveryPolicy, backoff_s, verify
from occupancy.db import connect
from occupancy.settings import load_settings

from .receiver import Receiver

pytestmark = pytest.mark.integration

SECRET = "test-signing-secret"


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def test_debounce_pure() -> None:
    now = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)
    t = lambda m: pd.Timestamp(now - dt.timedelta(minutes=m))  # noqa: E731
    announced = pd.DataFrame(
        {"space_id": ["a", "b", "c"], "state": ["vacant", "vacant", "occupied"]}
    )
    live = pd.DataFrame({
        "space_id": ["a", "b", "c", "d"], "kind": "desk", "zone_id": "z", "floor_id": "f",
        "state": ["occupied", "occupied", "occupied", "vacant"],
        "since": [t(2), t(0.25), t(5), t(1)], "people": float("nan"), "last_seen": t(0),
    })  # fmt: skip
    changes, new = state_changes(announced, live, now, debounce_s=60)
    # a: held 2 min ≥ 60 s → announced; b: 15 s, not yet; c: unchanged; d: first seen.
    assert list(changes["space_id"]) == ["a"] and list(changes["previous_state"]) == [
        "vacant"
    ]
    assert list(new["space_id"]) == ["d"]


def test_backoff_doubles_up_to_the_maximum() -> None:
    p = DeliveryPolicy(retry_base_s=1.0, retry_max_s=8.0)
    assert [backoff_s(n, p) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


class Desks:
    """Flip desks by writing presence events into sensor_events."""

    def __init__(self, url: str) -> None:
        self.conn = connect(url)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT device_id, space_id FROM devices WHERE kind = 'desk_sensor'"
                " ORDER BY device_id LIMIT 3"
            )
            self.devices = cur.fetchall()
        self.seq = 0

    def flip(self, i: int, occupied: bool) -> str:
        device, space = self.devices[i]
        self.seq += 1
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO sensor_events (ts, device_id, space_id, kind, value, seq)"
                " VALUES (now(), %s, %s, 'presence', %s, %s)",
                (device, space, 1.0 if occupied else 0.0, self.seq),
            )
        return str(space)

    def announced(self, space: str) -> str | None:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT state FROM notify_space_state WHERE space_id = %s", (space,)
            )
            row = cur.fetchone()
        return row[0] if row else None


@pytest.fixture()
def running(database_url: str) -> Iterator[Any]:
    started: list[tuple[Notifier, threading.Event, threading.Thread]] = []

    def start(**overrides: Any) -> Notifier:
        settings = load_settings({"database_url": database_url, "notify_interval_s": 0.2,
                                  **overrides}, environ={})  # fmt: skip
        n = Notifier(settings, alerts=False, states=True)
        stop = threading.Event()
        th = threading.Thread(target=n.run, args=(stop,), daemon=True)
        th.start()
        started.append((n, stop, th))
        return n

    yield start
    for _n, stop, th in started:
        stop.set()
        th.join(timeout=10)


def test_receiver_down_30s_gets_every_event_in_order(
    database_url: str, running: Any
) -> None:
    receiver = Receiver(free_port())
    receiver.start()
    env = {"OCCUPANCY_DATABASE_URL": database_url}
    out = CliRunner().invoke(main, ["webhooks", "add", receiver.url, "--events", "space.state",
                                    "--secret", SECRET], env=env)  # fmt: skip
    assert out.exit_code == 0, out.output
    desks = Desks(database_url)
    for i in range(3):
        desks.flip(i, False)
    running(webhook_debounce_s=0, webhook_retry_base_s=0.5,
                       webhook_retry_max_s=4, webhook_max_failures=1000)  # fmt: skip
    spaces = [str(d[1]) for d in desks.devices]
    wait_for(
        lambda: all(desks.announced(s) == "vacant" for s in spaces), 30, "first round"
    )
    expected: dict[str, list[str]] = {s: [] for s in spaces}

    def flip(i: int, occupied: bool) -> None:
        space = desks.flip(i, occupied)
        state = "occupied" if occupied else "vacant"
        wait_for(lambda: desks.announced(space) == state, 30, f"{space} {state}")
        expected[space].append(state)

    for i in range(3):  # receiver up
        flip(i, True)
    wait_for(lambda: len(receiver.received()) >= 3, 30, "deliveries while up")
    receiver.stop()
    down_at = time.monotonic()
    k = 0
    while time.monotonic() - down_at < 30:  # changes keep coming while it is down
        flip(k % 3, (k // 3) % 2 == 1)
        k += 1
        time.sleep(2.0)  # pace of the simulated changes, not a wait for a result
    receiver.start()
    conn = connect(database_url)

    def pending() -> int:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL"
            )
            n = int(cur.fetchone()[0])
        conn.rollback()
        return n

    wait_for(
        lambda: pending() == 0, 60, "every event delivered after the receiver came back"
    )
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM webhook_outbox")
        total = int(cur.fetchone()[0])
        cur.execute(
            "SELECT count(*) FILTER (WHERE NOT ok), count(*) FILTER (WHERE ok) FROM webhook_deliveries"
        )
        failed, ok = cur.fetchone()
        cur.execute("SELECT active FROM webhook_subscriptions")
        active = cur.fetchone()[0]
    conn.close()
    got = receiver.received()
    first: dict[int, Any] = {}
    for r in got:
        ts = r.headers["X-Occupancy-Timestamp"]
        assert verify(SECRET, ts, r.body, r.headers["X-Occupancy-Signature"])
        first.setdefault(r.json["id"], r.json)
    assert k >= 10 and total == 3 + k and len(first) == total
    assert failed > 0 and ok >= total and active
    seen: dict[str, list[str]] = {s: [] for s in spaces}
    for event_id in sorted(first):
        body = first[event_id]
        assert body["type"] == "space.state"
        seen[body["space_id"]].append(body["state"])
    assert seen == expected
    # Arrival order per space is the order of the changes (no reordering on retry).
    arrival: dict[str, list[int]] = {s: [] for s in spaces}
    for r in got:
        if r.json["id"] not in arrival[r.json["space_id"]]:
            arrival[r.json["space_id"]].append(r.json["id"])
    assert all(ids == sorted(ids) for ids in arrival.values())
    log = CliRunner().invoke(main, ["webhooks", "log", "-n", "5"], env=env)
    assert log.exit_code == 0 and "space.state" in log.output


def test_dead_receiver_disables_the_subscription(database_url: str) -> None:
    env = {"OCCUPANCY_DATABASE_URL": database_url}
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    out = CliRunner().invoke(
        main, ["webhooks", "add", dead, "--events", "space.state"], env=env
    )
    assert out.exit_code == 0, out.output
    sid = int(out.stderr.split()[1].rstrip(":"))
    settings = load_settings({"database_url": database_url, "webhook_debounce_s": 0,
                              "webhook_retry_base_s": 0.05, "webhook_retry_max_s": 0.1,
                              "webhook_max_failures": 3}, environ={})  # fmt: skip
    n = Notifier(settings, alerts=False, states=True)
    desks = Desks(database_url)
    n.round()
    desks.flip(2, desks.announced(str(desks.devices[2][1])) != "occupied")  # a change

    def disabled() -> bool:
        n.round()
        subs = CliRunner().invoke(main, ["webhooks", "list"], env=env).output
        line = next(x for x in subs.splitlines() if x.startswith(f"{sid}\t"))
        return "\tno\t" in line

    wait_for(disabled, 30, "subscription disabled")
    subs = CliRunner().invoke(main, ["webhooks", "list"], env=env).output
    line = next(x for x in subs.splitlines() if x.startswith(f"{sid}\t"))
    assert "3 failures in a row" in line and "\t3\t" in line
    assert (
        CliRunner().invoke(main, ["webhooks", "enable", str(sid)], env=env).exit_code
        == 0
    )
    assert (
        CliRunner().invoke(main, ["webhooks", "remove", str(sid)], env=env).exit_code
        == 0
    )
    bad = CliRunner().invoke(
        main, ["webhooks", "add", "ftp://x", "--events", "space.state"], env=env
    )
    assert bad.exit_code != 0 and "ftp://x" in bad.output
