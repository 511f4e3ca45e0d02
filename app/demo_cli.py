"""``occupancy demo``: the command; the stages are in :mod:`app.demo`."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import click

from app.demo import run_demo, run_live, say, serve_dashboard
from app.demo_portfolio import run_portfolio_demo
from occupancy.clictx import CliContext, pass_ctx

logger = logging.getLogger(__name__)

__all__ = ["demo"]


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
    say(f"pipeline done in {figures['total_s']} s")
    if "live" in figures:
        run_live(settings, figures["live"])
    else:
        serve_dashboard(settings, seconds=0.0 if no_serve else None)
