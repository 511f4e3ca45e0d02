"""Alerts end to end: the rules over real rows in PostgreSQL, each alert
raised once and resolved once, by email to a real SMTP server (aiosmtpd) and
by webhook to a real HTTP receiver."""

from __future__ import annotations

import datetime as dt
import email
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from app.cli import main
from app.services import free_port
from notify.service import Notifier
from notify.webhooks import add_subscription
from occupancy.db import connect
from occupancy.settings import load_settings

from .receiver import Receiver

pytestmark = pytest.mark.integration

# Tuesday 3 Nov 2026 10:00 CET: working hours.
T1 = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture()
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield port, inbox
    finally:
        ctl.stop()


def _pick(cur: Any, sql: str) -> tuple[Any, ...]:
    cur.execute(sql)
    return tuple(cur.fetchone())


def _seed_t1(conn: Any) -> dict[str, str]:
    with conn, conn.cursor() as cur:
        (silent,) = _pick(
            cur,
            "SELECT device_id FROM devices WHERE kind = 'desk_sensor' ORDER BY 1 LIMIT 1",
        )
        (weak,) = _pick(
            cur,
            "SELECT device_id FROM devices WHERE kind = 'desk_sensor' ORDER BY 1 OFFSET 1 LIMIT 1",
        )
        counter, room, seats = _pick(cur, "SELECT d.device_id, s.space_id, s.capacity FROM devices d JOIN spaces s USING (space_id)"
                                     " WHERE d.kind = 'room_counter' ORDER BY 1 LIMIT 1")  # fmt: skip
        cur.execute("INSERT INTO device_health (device_id, last_seen, battery_pct, online) VALUES"
                    " (%s, %s, 80, true), (%s, %s, 10, true)",
                    (silent, T1 - dt.timedelta(hours=2), weak, T1 - dt.timedelta(minutes=1)))  # fmt: skip
        ts = T1 - dt.timedelta(minutes=4)
        cur.execute("INSERT INTO sensor_events (ts, device_id, space_id, kind, value, seq, received_at)"
                    " VALUES (%s, %s, %s, 'count', %s, 1, %s)",
                    (ts, counter, room, seats + 3, ts + dt.timedelta(seconds=120)))  # fmt: skip
        for i in range(30):
            cur.execute("INSERT INTO rejected_messages (received_at, topic, payload, reason)"
                        " VALUES (%s, 'occupancy/hq/x/presence', 'x', 'malformed')",
                        (T1 - dt.timedelta(seconds=30 + i),))  # fmt: skip
    return {"silent": silent, "weak": weak, "room": room, "counter": counter}


def test_each_alert_raised_once_resolved_once(
    database_url: str, smtp: tuple[int, Inbox], tmp_path: Any
) -> None:
    port, inbox = smtp
    receiver = Receiver(free_port())
    receiver.start()
    conn = connect(database_url)
    add_subscription(conn, receiver.url, ("alert",), "alert-secret")
    ids = _seed_t1(conn)
    settings = load_settings({"database_url": database_url, "smtp_url": f"smtp://127.0.0.1:{port}",
                              "alert_email_to": "fm@example.org,it@example.org",
                              "webhook_retry_base_s": 0.1,
                              "notify_health_file": str(tmp_path / "alive")}, environ={})  # fmt: skip
    n = Notifier(settings, alerts=True, states=False)
    n.round(now=T1)
    assert (tmp_path / "alive").exists()  # the container health check's file
    n.round(now=T1 + dt.timedelta(seconds=30))  # still firing: nothing new
    raised1 = {(a[0], a[1]) for a in _alerts(conn)}
    assert raised1 == {
        ("battery_low", ids["weak"]), ("device_silent", ids["silent"]),
        ("ingest_lag", "ingester"), ("rejected_rate", "ingester"),
        ("room_over_capacity", ids["room"]),
    }  # fmt: skip
    assert len(inbox.messages) == 1 and n.stats.raised == 5
    mail = inbox.messages[0]
    assert mail["To"] == "fm@example.org, it@example.org"
    assert "5 alert(s) raised" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert f"room {ids['room']}:" in body and "seats" in body and "battery 10 %" in body

    # T2: 45 min later, no new data: a data gap; the room count is stale, lag and
    # rejects are out of their windows; battery and the silent device stay.
    t2 = T1 + dt.timedelta(minutes=45)
    n.round(now=t2)
    open2 = {(a[0], a[1]) for a in _alerts(conn) if a[3] is None}
    assert open2 == {
        ("battery_low", ids["weak"]),
        ("device_silent", ids["silent"]),
        ("data_gap", "site"),
    }
    # T3: data again, battery replaced, the silent device back.
    t3 = t2 + dt.timedelta(minutes=1)
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO sensor_events (ts, device_id, space_id, kind, value, seq, received_at)"
                    " VALUES (%s, %s, %s, 'count', 0, 2, %s)", (t3, ids["counter"], ids["room"], t3))  # fmt: skip
        cur.execute(
            "UPDATE device_health SET battery_pct = 95 WHERE device_id = %s",
            (ids["weak"],),
        )
        cur.execute(
            "UPDATE device_health SET last_seen = %s WHERE device_id = %s",
            (t3, ids["silent"]),
        )
    n.round(now=t3)
    n.round(now=t3 + dt.timedelta(seconds=10))
    rows = _alerts(conn)
    assert len(rows) == 6 and all(
        r[3] is not None for r in rows
    )  # each once, all resolved
    assert n.stats.raised == 6 and n.stats.resolved == 6
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects[1:] == [
        "[occupancy] 1 alert(s) raised, 3 resolved",
        "[occupancy] 0 alert(s) raised, 3 resolved",
    ]
    assert (
        "RAISED   [critical] data_gap site"
        in inbox.messages[1].get_payload(decode=True).decode()
    )

    deadline = time.monotonic() + 30
    while (
        len({r.json["id"] for r in receiver.received()}) < 12
        and time.monotonic() < deadline
    ):
        n.round(now=t3 + dt.timedelta(seconds=20))
        time.sleep(0.1)
    events = {r.json["id"]: r.json for r in receiver.received()}
    assert len(events) == 12  # 6 raised + 6 resolved
    per_alert: dict[int, list[str]] = {}
    for event_id in sorted(events):
        per_alert.setdefault(events[event_id]["alert_id"], []).append(
            events[event_id]["event"]
        )
    assert (
        all(v == ["raised", "resolved"] for v in per_alert.values())
        and len(per_alert) == 6
    )
    out = CliRunner().invoke(
        main, ["alerts", "list", "--all"], env={"OCCUPANCY_DATABASE_URL": database_url}
    )
    assert out.exit_code == 0 and "room_over_capacity" in out.output
    receiver.stop()
    conn.close()


def _alerts(conn: Any) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT rule, subject, raised_at, resolved_at FROM alerts ORDER BY alert_id"
        )
        rows = cur.fetchall()
    conn.rollback()
    return rows
