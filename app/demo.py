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
import time
import urllib.request
from pathlib import Path
from typing import Any

import click

from occupancy.clictx import CliContext, pass_ctx
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["DemoResult", "demo", "run_demo"]


def _say(msg: str) -> None:
    click.echo(f"[demo] {msg}", err=True)


def default_start(today: dt.date | None = None) -> dt.date:
    """The Monday two weeks before ``today``: a full past working week."""
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday() + 14)


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
) -> tuple[Settings, DemoResult]:
    """Run every stage up to computed analytics; return the settings in effect
    (with the demo key) and the figures. Raises on any stage failure."""
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

        start = start or default_start()
        t0 = time.perf_counter()
        result = simulate(
            site,
            load_scenario(scenario_file),
            start,
            days,
            seed,
            topic_root=settings.topic_root,
        )
        out["simulated_s"] = round(time.perf_counter() - t0, 1)
        out["messages"] = len(result.messages)
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
        try:
            _wait_subscribed(ingester)
            t0 = time.perf_counter()
            stats = publish(
                result.messages,
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
        finally:
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
    help="First simulated day [the Monday two weeks ago].",
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
@click.option("--port", type=int, help="Dashboard port [setting dashboard_port, 8050].")
@pass_ctx
def demo(
    cli: CliContext,
    days: int,
    start: dt.datetime | None,
    seed: int,
    speed: float | None,
    scenario_file: Path | None,
    no_serve: bool,
    port: int | None,
) -> None:
    """Run the whole pipeline on this machine and serve the dashboard.

    \b
    1. start private Mosquitto and PostgreSQL + TimescaleDB (unless
       OCCUPANCY_DATABASE_URL / OCCUPANCY_MQTT_URL are set),
    2. migrate the schema and load the building file,
    3. simulate DAYS days of the example office,
    4. publish them through MQTT to the ingester (TimescaleDB),
    5. compute the analytics, 6. serve the dashboard on http://127.0.0.1:8050.

    \b
    Examples:
      occupancy demo                      # a week, then serve
      occupancy demo --no-serve           # the same, check the dashboard, exit
      occupancy demo --days 28 --speed 86400
    """
    settings = cli.settings
    if port:
        settings = settings.replace(dashboard_port=port)
    try:
        settings, figures = run_demo(
            settings,
            days=days,
            start=start.date() if start else None,
            seed=seed,
            speed=speed,
            scenario_file=scenario_file,
        )
    except click.ClickException:
        raise
    except Exception as exc:  # the CLI boundary: one clear line, details in the log
        logger.debug("demo failed", exc_info=True)
        raise click.ClickException(f"demo failed: {type(exc).__name__}: {exc}") from exc
    _say(f"pipeline done in {figures['total_s']} s")
    serve_dashboard(settings, seconds=0.0 if no_serve else None)
