"""``occupancy simulate``: run the simulated office and publish it."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import click

from occupancy.building import BuildingError, Site, load_building
from occupancy.clictx import CliContext, pass_ctx
from occupancy.settings import MqttUrl, SettingError, parse_mqtt_url

from .engine import SimResult, simulate
from .portfolio_cli import portfolio_cmd
from .publish import PublishError, publish
from .scenario import ScenarioError, load_scenario

logger = logging.getLogger(__name__)

__all__ = ["COMMANDS", "simulate_cmd"]


def _monday() -> dt.date:
    today = dt.date.today()
    return today - dt.timedelta(days=today.weekday())


@click.group("simulate", invoke_without_command=True)
@click.option(
    "--building",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Building YAML [default: setting building_file].",
)
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario YAML [default: examples/scenario.yaml].",
)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First simulated day (local date) [default: this week's Monday].",
)
@click.option(
    "--days",
    type=click.IntRange(1),
    default=5,
    show_default=True,
    help="Number of days to simulate.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed: same seed, same messages and truth.",
)
@click.option(
    "--speed",
    type=float,
    default=3600.0,
    show_default=True,
    help="Simulated seconds per wall second (1 = real time).",
)
@click.option(
    "--backfill",
    is_flag=True,
    help="Publish as fast as the broker acknowledges (QoS 1).",
)
@click.option("--no-publish", is_flag=True, help="Only generate (and write truth).")
@click.option(
    "--mqtt-url",
    default=None,
    help="mqtt://user:pass@host:port [default: setting mqtt_url].",
)
@click.option(
    "--topic-root",
    default=None,
    help="Topic root, may contain slashes [default: setting topic_root].",
)
@click.option(
    "--ground-truth",
    "ground_truth",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write the ground-truth tables into.",
)
@click.option(
    "--truth-format",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="File format of the ground truth.",
)
@click.option(
    "--bookings",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the booked meetings as a bookings CSV here.",
)
@click.option(
    "--window",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="Unacknowledged messages allowed in flight.",
)
@pass_ctx
def simulate_cmd(
    cli: CliContext,
    building: Path | None,
    scenario: Path | None,
    start: dt.datetime | None,
    days: int,
    seed: int,
    speed: float,
    backfill: bool,
    no_publish: bool,
    mqtt_url: str | None,
    topic_root: str | None,
    ground_truth: Path | None,
    truth_format: str,
    bookings: Path | None,
    window: int,
) -> None:
    """Simulate the office: people, meetings and their sensors, published as
    the real devices do, with the ground truth beside it.

    \b
    Examples:
      # a week, an hour of office life per second, to the dev broker
      occupancy simulate --start 2026-03-02 --days 5
      # three months of history as fast as the pipeline takes it
      occupancy simulate --start 2026-01-05 --days 90 --backfill
      # only generate, write truth and bookings (for evaluation)
      occupancy simulate --days 28 --no-publish --ground-truth truth/ \\
          --bookings bookings.csv
      # a portfolio of 20 buildings in 5 cities (occupancy simulate portfolio --help)
      occupancy simulate portfolio --buildings 20 --weeks 4 --no-publish
    """
    if click.get_current_context().invoked_subcommand is not None:
        return  # ``simulate portfolio``: its own options
    s = cli.settings
    try:
        site = load_building(building or s.building_file)
        sc = load_scenario(scenario)
        url = parse_mqtt_url(mqtt_url) if mqtt_url else s.mqtt
    except (BuildingError, ScenarioError, SettingError) as exc:
        raise click.ClickException(str(exc)) from exc
    first = start.date() if start else _monday()
    root = (topic_root or s.topic_root).rstrip("/")
    t = time.perf_counter()
    click.echo(f"simulating {days} days from {first} (seed {seed}) ...", err=True)
    result = simulate(site, sc, first, days, seed, topic_root=root)
    n = len(result.messages)
    click.echo(f"generated {n} messages in {time.perf_counter() - t:.1f} s", err=True)
    _write_outputs(result, site, ground_truth, truth_format, bookings)
    if not no_publish:
        _publish(result, url, speed=speed, backfill=backfill, window=window)


def _write_outputs(
    result: SimResult,
    site: Site,
    ground_truth: Path | None,
    truth_format: str,
    bookings: Path | None,
) -> None:
    """Write the ground truth and the bookings CSV where asked."""
    if ground_truth is not None:
        result.write_truth(ground_truth, truth_format)
        click.echo(f"ground truth written to {ground_truth}/", err=True)
    if bookings is not None:
        result.write_bookings(bookings, site.timezone)
        click.echo(f"bookings written to {bookings}", err=True)


def _publish(
    result: SimResult, url: MqttUrl, *, speed: float, backfill: bool, window: int
) -> None:
    """Publish the simulated messages and say how fast it went."""
    try:
        stats = publish(
            result.messages, url, speed=speed, backfill=backfill, window=window
        )
    except PublishError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"published {stats.messages} messages in {stats.seconds:.1f} s "
        f"({stats.rate:,.0f} msg/s)",
        err=True,
    )


simulate_cmd.add_command(portfolio_cmd)

COMMANDS = [simulate_cmd]
