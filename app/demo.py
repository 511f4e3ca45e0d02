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
from pathlib import Path
from typing import Any

import click

from app.demo_portfolio import run_portfolio_demo
from occupancy.clictx import CliContext, pass_ctx
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["DemoResult", "demo", "run_demo"]


def _say(msg: str) -> None:
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


class LiveParts:
    """What the live phase takes over from :func:`run_demo`: the running
    ingester, the simulated messages not due yet, the site and scenario."""

    def __init__(self, **parts: Any) -> None:
        self.ingester = parts["ingester"]
        self.pending = parts["pending"]
        self.next_day: dt.date = parts["next_day"]
        self.site = parts["site"]
        self.scenario = parts["scenario"]
        self.seed: int = parts["seed"]


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
    from analytics.pipeline import run_analyze
    from ingest.badges import import_badges
    from ingest.service import Ingester
    from occupancy.building import load_building
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site
    from sensors_sim import load_scenario, simulate
    from sensors_sim.publish import publish

    out = DemoResult()
    t_all = time.perf_counter()
    if start_services and not settings.database_url and not settings.mqtt_url:
        from app.services import MosquittoServer, PostgresServer

        _say(f"starting private services in {settings.data_path}")
        PostgresServer(settings.data_path / "postgres", settings.pg_port).start()
        MosquittoServer(settings.data_path / "mosquitto", settings.mqtt_port).start()
    settings = settings.replace(pseudonym_key=_demo_key(settings))

    conn = connect(
        settings.effective_database_url, timeout_s=settings.db_connect_timeout_s
    )
    try:
        applied = migrate(conn)
        _say(f"schema ready ({len(applied)} migrations applied now)")
        site = load_building(settings.building_file)
        load_site(conn, site)
        _say(f"building {settings.building_file} loaded")

        import pandas as pd

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
        _say(
            f"simulated {days} days from {start}: {len(result.messages):,} messages "
            f"in {out['simulated_s']} s"
        )
        truth_dir = settings.data_path / "demo" / "truth"
        result.write_truth(truth_dir)
        out["truth_dir"] = str(truth_dir)
        badges = result.truth["badges"]
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
        bookings = result.write_bookings(
            settings.data_path / "demo" / "bookings.csv", tz=site.timezone
        )
        _import_bookings(conn, bookings)
        _say(
            f"badge register ({out['badges']} badges, pseudonymised) and bookings imported"
        )

        ingester = Ingester(
            settings.replace(ingest_client_id="occupancy-demo-ingest"), metrics_port=0
        )
        ingester.start()
        handed_over = False
        try:
            _wait_subscribed(ingester)
            t0 = time.perf_counter()
            stats = publish(
                backfill,
                settings.mqtt,
                speed=speed or 3600.0,
                backfill=speed is None,
                client_id="occupancy-demo-sim",
            )
            _say("published; waiting for the ingester to commit everything")
            if not ingester.wait_idle(2.0, timeout=300):
                raise click.ClickException(
                    "the ingester did not settle within 5 minutes"
                )
            snap = ingester.stats.snapshot()
            if live:
                out["live"] = LiveParts(
                    ingester=ingester,
                    pending=pending,
                    next_day=start + dt.timedelta(days=sim_days),
                    site=site,
                    scenario=scenario,
                    seed=seed,
                )
                handed_over = True
        finally:
            if not handed_over:
                snap = ingester.stop()
        out["publish_s"] = round(time.perf_counter() - t0, 1)
        out["published"] = stats.messages
        out["ingest"] = snap
        _say(
            f"published {stats.messages:,} messages at {stats.rate:,.0f} msg/s; ingested: {snap.line()}"
        )

        t0 = time.perf_counter()
        report = run_analyze(conn, settings, full=True, progress=_say)
        out["analyze_s"] = round(time.perf_counter() - t0, 1)
        out["analyze"] = str(report)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*), round(avg(time_used_pct)::numeric, 1) FROM desk_daily_utilization"
            )
            row = cur.fetchone()
        out["desk_days"], out["desk_time_used_pct"] = (
            (row[0], float(row[1] or 0)) if row else (0, 0.0)
        )
        _say(
            f"analytics done in {out['analyze_s']} s: {out['desk_days']} desk-days, "
            f"mean desk time used {out['desk_time_used_pct']} %"
        )
    except BaseException:
        if "live" in out:
            out.pop("live").ingester.stop()
        raise
    finally:
        conn.close()
    out["total_s"] = round(time.perf_counter() - t_all, 1)
    return settings, out


def _import_bookings(conn: Any, path: Path) -> None:
    from analytics import store
    from analytics.bookings import read_bookings_csv

    store.import_bookings(conn, read_bookings_csv(path))


def _wait_subscribed(ingester: Any, timeout_s: float = 30.0) -> None:
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
) -> dict[str, Any]:
    """The live phase: the simulated building publishes in real time (people
    arrive, meet and leave at the site's local time) through the running
    ingester, the dashboard is served, and an incremental ``analyze`` runs
    every ``analyze_every_s`` so the period views keep up (the "Now" panel and
    the floor map's live layer read the raw events and device health
    directly). Until Ctrl-C, or ``seconds``. Stops the ingester at the end."""
    from analytics.pipeline import run_analyze
    from dashboard.app import create_app
    from dashboard.serve import DashboardServer
    from occupancy.db import connect
    from sensors_sim.live import LivePublisher

    live = LivePublisher(
        parts.site,
        parts.scenario,
        settings.mqtt,
        pending=parts.pending,
        next_day=parts.next_day,
        seed=parts.seed,
        topic_root=settings.topic_root,
    )
    server = DashboardServer(
        create_app(settings), settings.dashboard_host, settings.dashboard_port
    )
    url = server.url
    figures: dict[str, Any] = {"analyses": 0}
    _stop_on_sigterm()
    conn = connect(settings.effective_database_url)
    try:
        live.start()
        server.start()
        _say(f"live: the building publishes in real time; dashboard on {url}")
        _say("Ctrl-C to stop")
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
                _say(
                    f"live: {st.published:,} messages published, last at "
                    f"{st.last_send_at:%H:%M:%S} UTC; {figures['analyses']} "
                    "incremental analyses"
                    if st.last_send_at is not None
                    else "live: waiting for the next simulated message"
                )
                next_report = now + LIVE_REPORT_S
    except KeyboardInterrupt:
        _say("stopping")
    finally:
        figures["published"] = live.stop().published
        server.close()
        parts.ingester.stop()
        conn.close()
    return figures


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
        _say(f"dashboard on {url}  (Ctrl-C to stop)")
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
        _say(
            f"dashboard answered on {url} ({len(body)} bytes); stopping after {seconds:g} s"
        )
        time.sleep(seconds)
    finally:
        server.close()


@click.command("demo")
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=7,
    show_default=True,
    help="Simulated days.",
)
@click.option(
    "--start",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First simulated day [DAYS days ending today].",
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Simulation seed."
)
@click.option(
    "--speed",
    type=float,
    help="Publish at this acceleration (3600 = an hour a second) instead of as fast "
    "as the pipeline takes it.",
)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, path_type=Path),
    help="Scenario YAML [examples/scenario.yaml].",
)
@click.option(
    "--no-serve", is_flag=True, help="Check the dashboard answers, then exit."
)
@click.option(
    "--live/--no-live",
    default=True,
    show_default=True,
    help="After the backfill, keep the building publishing in real time while "
    "serving (not with --no-serve).",
)
@click.option("--port", type=int, help="Dashboard port [setting dashboard_port, 8050].")
@click.option(
    "--portfolio",
    type=click.IntRange(1, 20),
    help="Instead of the example office: N small buildings in 5 cities and time "
    "zones (occupancy simulate portfolio), no live phase; see /portfolio.",
)
@pass_ctx
def demo(
    cli: CliContext,
    days: int,
    start: dt.datetime | None,
    seed: int,
    speed: float | None,
    scenario_file: Path | None,
    no_serve: bool,
    live: bool,
    port: int | None,
    portfolio: int | None,
) -> None:
    """Run the whole pipeline on this machine and serve the dashboard.

    \b
    1. start private Mosquitto and PostgreSQL + TimescaleDB (unless
       OCCUPANCY_DATABASE_URL / OCCUPANCY_MQTT_URL are set),
    2. migrate the schema and load the building file,
    3. simulate DAYS days of the example office, ending now (site time),
    4. publish them through MQTT to the ingester (TimescaleDB),
    5. compute the analytics, 6. serve the dashboard on http://127.0.0.1:8050,
    7. live: the building goes on publishing in real time (people arrive,
       meet, leave at the site's local time) and the analytics are updated
       incrementally every 5 minutes.

    \b
    Examples:
      occupancy demo                      # a week, then serve
      occupancy demo --no-serve           # backfill, check the dashboard, exit
      occupancy demo --no-live            # serve the backfilled days only
      occupancy demo --days 28 --speed 86400
      occupancy demo --portfolio 3        # 3 small buildings, 3 time zones
    """
    settings = cli.settings
    if port:
        settings = settings.replace(dashboard_port=port)
    if portfolio:
        s = run_portfolio_demo(settings, buildings=portfolio, days=days, seed=seed,
                               start=start.date() if start else None)  # fmt: skip
        return serve_dashboard(s, seconds=0.0 if no_serve else None)
    try:
        settings, figures = run_demo(
            settings,
            days=days,
            start=start.date() if start else None,
            seed=seed,
            speed=speed,
            scenario_file=scenario_file,
            live=live and not no_serve,
        )
    except click.ClickException:
        raise
    except Exception as exc:  # the CLI boundary: one clear line, details in the log
        logger.debug("demo failed", exc_info=True)
        raise click.ClickException(f"demo failed: {type(exc).__name__}: {exc}") from exc
    _say(f"pipeline done in {figures['total_s']} s")
    if "live" in figures:
        run_live(settings, figures["live"])
    else:
        serve_dashboard(settings, seconds=0.0 if no_serve else None)
