"""``occupancy demo``: the whole pipeline on this machine, end to end.

services → schema → building → simulated week → MQTT → ingester → TimescaleDB
→ analytics → dashboard. This module only orchestrates: every stage is the real
package (imported lazily, so the shared package does not depend on them at
import time).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from occupancy.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from ingest.service import Ingester
    from occupancy.building import Site
    from occupancy.db import Connection
    from sensors_sim import SimResult
    from sensors_sim.live import LivePublisher
    from sensors_sim.scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = ["DemoResult", "LiveParts", "run_demo", "run_live", "serve_dashboard"]


def say(msg: str) -> None:
    """One progress line of the demo (stderr)."""
    click.echo(f"[demo] {msg}", err=True)


#: Incremental ``analyze`` in the live demo every this long [s].
LIVE_ANALYZE_S = 300.0
#: The live demo prints what it published this often [s].
LIVE_REPORT_S = 60.0


def site_today(tz: str) -> dt.date:
    """Today in the site's local time."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(tz)).date()


def default_start(days: int, today: dt.date) -> dt.date:
    """The first of ``days`` backfilled days that end ``today`` (local)."""
    return today - dt.timedelta(days=days - 1)


@dataclass
class LiveParts:
    """What the live phase takes over from :func:`run_demo`: the running
    ingester, the simulated messages not due yet, the site and scenario."""

    ingester: Ingester
    pending: pd.DataFrame
    next_day: dt.date
    site: Site
    scenario: Scenario
    seed: int


def _demo_key(settings: Settings) -> str:
    """The pseudonymisation key: the configured one, else a random demo key kept
    in the data directory (never use that in production)."""
    if settings.pseudonym_key:
        return str(settings.pseudonym_key)
    path = settings.data_path / "demo-pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class DemoResult(dict[str, Any]):
    """Figures of a demo run (published, inserted, timings, ...)."""


def run_demo(
    settings: Settings,
    *,
    days: int = 7,
    start: dt.date | None = None,
    seed: int = 42,
    speed: float | None = None,
    scenario_file: Path | None = None,
    start_services: bool = True,
    live: bool = False,
) -> tuple[Settings, DemoResult]:
    """Run every stage up to computed analytics; return the settings in effect
    (with the demo key) and the figures. Raises on any stage failure.

    The backfill ends now: messages due later today are not published. With
    ``live`` the ingester keeps running and ``out["live"]`` holds the
    :class:`LiveParts` for :func:`run_live` (the caller stops the ingester)."""
    from occupancy.db import connect

    out = DemoResult()
    t_all = time.perf_counter()
    if start_services and not settings.database_url and not settings.mqtt_url:
        _start_services(settings)
    settings = settings.replace(pseudonym_key=_demo_key(settings))
    conn = connect(
        settings.effective_database_url, timeout_s=settings.db_connect_timeout_s
    )
    try:
        site = _load_schema_and_building(conn, settings)
        sim = _simulate(settings, site, days, start, seed, scenario_file, live, out)
        _import_registers(conn, settings, sim, out)
        _publish_backfill(settings, sim, speed, live, out)
        _analyze(conn, settings, out)
    except BaseException:
        if "live" in out:
            out.pop("live").ingester.stop()
        raise
    finally:
        conn.close()
    out["total_s"] = round(time.perf_counter() - t_all, 1)
    return settings, out


@dataclass
class _Sim:
    """The simulated days of a demo: messages due now and later, the truth."""

    site: Site
    scenario: Scenario
    start: dt.date
    days: int  # simulated (live: one more than shown)
    seed: int
    result: SimResult
    backfill: pd.DataFrame
    pending: pd.DataFrame


def _start_services(settings: Settings) -> None:
    from app.services import MosquittoServer, PostgresServer

    say(f"starting private services in {settings.data_path}")
    PostgresServer(settings.data_path / "postgres", settings.pg_port).start()
    MosquittoServer(settings.data_path / "mosquitto", settings.mqtt_port).start()


def _load_schema_and_building(conn: Connection, settings: Settings) -> Site:
    from occupancy.building import load_building
    from occupancy.db import migrate
    from occupancy.metadata import load_site

    applied = migrate(conn)
    say(f"schema ready ({len(applied)} migrations applied now)")
    site = load_building(settings.building_file)
    load_site(conn, site)
    say(f"building {settings.building_file} loaded")
    return site


def _simulate(
    settings: Settings,
    site: Site,
    days: int,
    start: dt.date | None,
    seed: int,
    scenario_file: Path | None,
    live: bool,
    out: DemoResult,
) -> _Sim:
    """Simulate the days ending today (live: and tomorrow, to publish in real
    time), split into the messages due now and those due later."""
    import pandas as pd

    from sensors_sim import load_scenario, simulate
    from sensors_sim.live import split_due

    today = site_today(site.timezone)
    start = start or default_start(days, today)
    scenario = load_scenario(scenario_file)
    # Live: one day more (tomorrow), queued for real-time publishing.
    sim_days = max(days, (today - start).days + 2) if live else days
    t0 = time.perf_counter()
    result = simulate(
        site, scenario, start, sim_days, seed, topic_root=settings.topic_root
    )
    out["simulated_s"] = round(time.perf_counter() - t0, 1)
    backfill, pending = split_due(result.messages, pd.Timestamp.now(tz="UTC"))
    out["messages"] = len(backfill)
    say(
        f"simulated {days} days from {start}: {len(result.messages):,} messages "
        f"in {out['simulated_s']} s"
    )
    return _Sim(site, scenario, start, sim_days, seed, result, backfill, pending)


def _import_registers(
    conn: Connection, settings: Settings, sim: _Sim, out: DemoResult
) -> None:
    """Write the truth; import the badge register and the bookings."""
    from ingest.badges import import_badges

    truth_dir = settings.data_path / "demo" / "truth"
    sim.result.write_truth(truth_dir)
    out["truth_dir"] = str(truth_dir)
    badges = sim.result.truth["badges"]
    out["badges"] = import_badges(
        conn,
        settings.pseudonym_key,
        list(
            zip(
                badges["badge_id"].astype(str),
                badges["department_id"].astype(str),
                strict=True,
            )
        ),
        replace=True,
    )
    bookings = sim.result.write_bookings(
        settings.data_path / "demo" / "bookings.csv", tz=sim.site.timezone
    )
    _import_bookings(conn, bookings)
    say(f"badge register ({out['badges']} badges, pseudonymised) and bookings imported")


def _publish_backfill(
    settings: Settings, sim: _Sim, speed: float | None, live: bool, out: DemoResult
) -> None:
    """Publish the messages due now through a running ingester and wait until
    it committed them all; with ``live`` hand the ingester over in ``out``."""
    from ingest.service import Ingester
    from sensors_sim.publish import publish

    ingester = Ingester(
        settings.replace(ingest_client_id="occupancy-demo-ingest"), metrics_port=0
    )
    ingester.start()
    handed_over = False
    try:
        _wait_subscribed(ingester)
        t0 = time.perf_counter()
        stats = publish(
            sim.backfill,
            settings.mqtt,
            speed=speed or 3600.0,
            backfill=speed is None,
            client_id="occupancy-demo-sim",
        )
        say("published; waiting for the ingester to commit everything")
        if not ingester.wait_idle(2.0, timeout=300):
            raise click.ClickException("the ingester did not settle within 5 minutes")
        snap = ingester.stats.snapshot()
        if live:
            out["live"] = LiveParts(
                ingester=ingester,
                pending=sim.pending,
                next_day=sim.start + dt.timedelta(days=sim.days),
                site=sim.site,
                scenario=sim.scenario,
                seed=sim.seed,
            )
            handed_over = True
    finally:
        if not handed_over:
            snap = ingester.stop()
    out["publish_s"] = round(time.perf_counter() - t0, 1)
    out["published"] = stats.messages
    out["ingest"] = snap
    say(
        f"published {stats.messages:,} messages at {stats.rate:,.0f} msg/s; "
        f"ingested: {snap.line()}"
    )


def _analyze(conn: Connection, settings: Settings, out: DemoResult) -> None:
    from analytics.pipeline import run_analyze

    t0 = time.perf_counter()
    report = run_analyze(conn, settings, full=True, progress=say)
    out["analyze_s"] = round(time.perf_counter() - t0, 1)
    out["analyze"] = str(report)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), round(avg(time_used_pct)::numeric, 1) "
            "FROM desk_daily_utilization"
        )
        row = cur.fetchone()
    out["desk_days"], out["desk_time_used_pct"] = (
        (row[0], float(row[1] or 0)) if row else (0, 0.0)
    )
    say(
        f"analytics done in {out['analyze_s']} s: {out['desk_days']} desk-days, "
        f"mean desk time used {out['desk_time_used_pct']} %"
    )


def _import_bookings(conn: Connection, path: Path) -> None:
    from analytics import store
    from analytics.bookings import read_bookings_csv

    store.import_bookings(conn, read_bookings_csv(path))


def _wait_subscribed(ingester: Ingester, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ingester.stats.subscribed:
            return
        time.sleep(0.05)
    raise click.ClickException("the ingester could not connect to the broker")


def run_live(
    settings: Settings,
    parts: LiveParts,
    *,
    seconds: float | None = None,
    analyze_every_s: float = LIVE_ANALYZE_S,
) -> dict[str, int]:
    """The live phase: the simulated building publishes in real time (people
    arrive, meet and leave at the site's local time) through the running
    ingester, the dashboard is served, and an incremental ``analyze`` runs
    every ``analyze_every_s`` so the period views keep up (the "Now" panel and
    the floor map's live layer read the raw events and device health
    directly). Until Ctrl-C, or ``seconds``. Stops the ingester at the end."""
    from dashboard.app import create_app
    from dashboard.serve import DashboardServer
    from occupancy.db import connect
    from sensors_sim.live import LiveOptions, LivePublisher

    live = LivePublisher(
        parts.site,
        parts.scenario,
        settings.mqtt,
        pending=parts.pending,
        next_day=parts.next_day,
        seed=parts.seed,
        options=LiveOptions(topic_root=settings.topic_root),
    )
    server = DashboardServer(
        create_app(settings), settings.dashboard_host, settings.dashboard_port
    )
    figures: dict[str, int] = {"analyses": 0}
    _stop_on_sigterm()
    conn = connect(settings.effective_database_url)
    try:
        live.start()
        server.start()
        say(f"live: the building publishes in real time; dashboard on {server.url}")
        say("Ctrl-C to stop")
        _live_loop(conn, settings, live, figures, seconds, analyze_every_s)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        figures["published"] = live.stop().published
        server.close()
        parts.ingester.stop()
        conn.close()
    return figures


def _live_loop(
    conn: Connection,
    settings: Settings,
    live: LivePublisher,
    figures: dict[str, int],
    seconds: float | None,
    analyze_every_s: float,
) -> None:
    """Until ``seconds`` (or forever): incremental analyses and progress lines."""
    from analytics.pipeline import run_analyze

    t_end = None if seconds is None else time.monotonic() + seconds
    next_analyze = time.monotonic() + analyze_every_s
    next_report = time.monotonic() + LIVE_REPORT_S
    while t_end is None or time.monotonic() < t_end:
        time.sleep(0.5)
        if live.error is not None:
            raise click.ClickException(f"live publishing failed: {live.error}")
        now = time.monotonic()
        if now >= next_analyze:
            run_analyze(conn, settings, progress=lambda _m: None)
            figures["analyses"] += 1
            next_analyze = now + analyze_every_s
        if now >= next_report:
            st = live.stats
            say(
                f"live: {st.published:,} messages published, last at "
                f"{st.last_send_at:%H:%M:%S} UTC; {figures['analyses']} "
                "incremental analyses"
                if st.last_send_at is not None
                else "live: waiting for the next simulated message"
            )
            next_report = now + LIVE_REPORT_S


def _stop_on_sigterm() -> None:
    """SIGTERM (a service manager, ``kill``) stops the live demo as Ctrl-C does:
    publisher, dashboard and ingester shut down in order."""
    import signal

    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def serve_dashboard(settings: Settings, *, seconds: float | None = None) -> None:
    """Serve the dashboard; with ``seconds`` check it answers, then stop."""
    from dashboard.app import create_app
    from dashboard.serve import DashboardServer

    app = create_app(settings)
    host, port = settings.dashboard_host, settings.dashboard_port
    server = DashboardServer(app, host, port)
    url = server.url
    if seconds is None:
        say(f"dashboard on {url}  (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        return
    server.start()
    try:
        req = urllib.request.Request(url)
        if settings.auth_users:
            import base64

            user, pw = str(settings.auth_users).split(",")[0].split(":", 1)
            token = base64.b64encode(f"{user}:{pw}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
            if resp.status != 200 or b"_dash-renderer" not in body:
                raise click.ClickException(
                    f"dashboard answered {resp.status} without the app"
                )
        say(
            f"dashboard answered on {url} ({len(body)} bytes); stopping after {seconds:g} s"
        )
        time.sleep(seconds)
    finally:
        server.close()
