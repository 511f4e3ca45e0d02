"""Dashboard fixtures: the app served on a free port, and headless Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class Served:
    url: str
    app: Any
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self.app.server.extensions["occupancy_dashboard"].close()


def serve(settings: Any) -> Served:
    """Build the app for ``settings`` and serve it on a free port in a thread."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Served(f"http://127.0.0.1:{server.server_port}", app, server, thread)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield b
        finally:
            b.close()


@dataclass
class ConsoleLog:
    errors: list[str] = field(default_factory=list)


def open_page(browser: Any, **context_kwargs: Any) -> tuple[Any, ConsoleLog]:
    """A new page that records console errors and uncaught exceptions."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        accept_downloads=True,
        **context_kwargs,
    )
    page = context.new_page()
    log = ConsoleLog()
    page.on(
        "console", lambda m: log.errors.append(m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda e: log.errors.append(str(e)))
    return page, log


@pytest.fixture(scope="module")
def serve_app() -> Any:
    """Factory: ``serve_app(settings) -> Served`` (the caller stops it)."""
    return serve


@pytest.fixture()
def new_page(browser: Any) -> Iterator[Any]:
    """Factory: ``new_page(**context_kwargs) -> (page, console log)``; closed after the test."""
    contexts: list[Any] = []

    def make(**kwargs: Any) -> tuple[Any, ConsoleLog]:
        page, log = open_page(browser, **kwargs)
        contexts.append(page.context)
        return page, log

    yield make
    for c in contexts:
        c.close()


# --------------------------------------------------------------------- demo data
#: The seeded week (Monday..Sunday, local dates) and its query string.
WEEK = ("2026-11-02", "2026-11-08")
WEEK_QUERY = f"?site=hq&from={WEEK[0]}&to={WEEK[1]}&wh=1"


def seed_demo(url: str) -> dict[str, Any]:
    """Hand-made events for Tue 3 and Wed 4 Nov 2026 (CET = UTC+1), analysed by
    the real ``analytics`` pipeline. Returns what was seeded.

    - 12 desks of f0-operations: heartbeats every 10 min over working hours;
      occupied 09:00-12:00 local (08:00-11:00 UTC) on both days.
    - room f0-meet-... (the first meeting room): 4 people 10:00-11:00 local.
    - shared zone: 6 IT and 6 HR badges 10:00-12:00 local; 2 Legal badges
      (fewer than k = 5: their co-location cells are suppressed).
    """
    import datetime as dt

    from psycopg2.extras import execute_values

    from analytics.pipeline import run_analyze
    from occupancy.db import connect
    from occupancy.settings import load_settings

    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT d.device_id, d.space_id FROM devices d JOIN spaces s USING (space_id) "
                "WHERE s.zone_id = 'f0-operations' AND s.kind = 'desk' AND d.kind = 'desk_sensor' "
                "ORDER BY s.space_id LIMIT 12"
            )
            desks = cur.fetchall()
            cur.execute(
                "SELECT d.device_id, d.space_id FROM devices d JOIN spaces s USING (space_id) "
                "WHERE s.kind = 'meeting_room' AND d.kind = 'room_counter' ORDER BY s.space_id LIMIT 1"
            )
            room = cur.fetchone()
            cur.execute(
                "SELECT d.device_id, d.zone_id FROM devices d JOIN zones z USING (zone_id) "
                "WHERE z.kind = 'shared' AND d.kind = 'ble_scanner' ORDER BY d.device_id LIMIT 1"
            )
            scanner = cur.fetchone()
            rows: list[tuple[Any, ...]] = []
            seq = 0
            for day in (dt.date(2026, 11, 3), dt.date(2026, 11, 4)):
                t0 = dt.datetime.combine(day, dt.time(7, 0), dt.UTC)  # 08:00 local
                for device, space in desks:
                    for i in range(61):  # every 10 min until 18:00 local
                        ts = t0 + dt.timedelta(minutes=10 * i)
                        occupied = 1.0 if 60 <= 10 * i < 240 else 0.0
                        seq += 1
                        rows.append((ts, device, space, "heartbeat", occupied, seq))
                if room:
                    for i in range(61):
                        ts = t0 + dt.timedelta(minutes=10 * i)
                        people = 4.0 if 120 <= 10 * i < 180 else 0.0
                        seq += 1
                        rows.append((ts, room[0], room[1], "count", people, seq))
            execute_values(
                cur,
                "INSERT INTO sensor_events (ts, device_id, space_id, kind, value, seq) VALUES %s",
                rows,
                page_size=5000,
            )
            badges = [(f"b-it-{i}", "it") for i in range(6)] + [
                (f"b-hr-{i}", "hr") for i in range(6)
            ]
            badges += [(f"b-legal-{i}", "legal") for i in range(2)]
            execute_values(
                cur,
                "INSERT INTO badge_departments (badge, department_id) VALUES %s",
                badges,
            )
            sightings = []
            if scanner:
                for day in (dt.date(2026, 11, 3), dt.date(2026, 11, 4)):
                    t0 = dt.datetime.combine(day, dt.time(9, 0), dt.UTC)  # 10:00 local
                    for i in range(25):  # every 5 min for 2 h
                        ts = t0 + dt.timedelta(minutes=5 * i)
                        for badge, _ in badges:
                            seq += 1
                            sightings.append(
                                (ts, scanner[0], scanner[1], badge, -60.0, seq)
                            )
                execute_values(
                    cur,
                    "INSERT INTO badge_sightings (ts, device_id, zone_id, badge, rssi, seq) VALUES %s",
                    sightings,
                    page_size=5000,
                )
        settings = load_settings({"database_url": url})
        run_analyze(conn, settings, full=True, progress=lambda _msg: None)
    finally:
        conn.close()
    return {
        "desks": [d[1] for d in desks],
        "room": room[1] if room else None,
        "zone": scanner[1] if scanner else None,
    }


@pytest.fixture(scope="module")
def demo_db(database_url: str) -> dict[str, Any]:
    """``database_url`` with :func:`seed_demo` applied; adds ``url`` and ``query``."""
    info = seed_demo(database_url)
    return {**info, "url": database_url, "query": WEEK_QUERY, "week": WEEK}
