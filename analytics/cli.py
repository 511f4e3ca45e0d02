"""Commands of the analytics package: analyze, export, evaluate, bookings import."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from analytics.analyze_cli import analyze
from analytics.bookings_cli import bookings_sync as _bookings_sync
from analytics.plan_cli import (
    PLAN_REPORTS,
    PlanOptionError,
    check_export_args,
    parse_plan_options,
    plan,
    run_report,
)
from occupancy.clictx import CliContext, pass_ctx
from occupancy.db import Connection

if TYPE_CHECKING:
    import pandas as pd

    from analytics.reports import Filters

logger = logging.getLogger(__name__)

__all__ = ["COMMANDS"]


def _connect(cli: CliContext) -> Connection:
    return cli.connect()


@click.command("export")
@click.argument(
    "report",
    type=click.Choice(
        [
            "sessions",
            "utilization",
            "hour-of-week",
            "rooms",
            "colocation",
            "devices",
            "intervals",
            "portfolio",
            *PLAN_REPORTS,
        ]
    ),
)
@click.option(
    "--from",
    "first",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First local day.",
)
@click.option(
    "--to",
    "last",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Last local day, included.",
)
@click.option(
    "--level",
    help="utilization: space|room|zone|floor|building|department; hour-of-week: space|zone|floor|building|department|room; rooms: room|department (no-show per organiser department); colocation: matrix|diversity|trend; portfolio: building|week (the weekly trend).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output file (default: stdout for csv).",
)
@click.option("--floor", help="Only this floor.")
@click.option("--zone", help="Only this zone.")
@click.option("--department", help="Only this department.")
@click.option(
    "--all-hours",
    is_flag=True,
    help="Every hour of every day instead of working hours only (utilization and hour-of-week).",
)
@click.option(
    "--rollup",
    is_flag=True,
    help="Departments one level up their hierarchy (team → department → division).",
)
@click.option(
    "--plan",
    "plan_opts",
    multiple=True,
    metavar="KEY=VALUE",
    help="Options of the plan reports (forecast, whatif, stack, intervention, scorecard); see `occupancy plan COMMAND --help` and docs/metrics.md, e.g. horizon=8, planned-change=2026-09-07:1.2, close=f2:fri.",
)
@pass_ctx
def export(
    cli: CliContext,
    report: str,
    first: dt.datetime,
    last: dt.datetime,
    level: str | None,
    fmt: str,
    output: Path | None,
    floor: str | None,
    zone: str | None,
    department: str | None,
    all_hours: bool,
    rollup: bool,
    plan_opts: tuple[str, ...],
) -> None:
    """Export REPORT over local days --from..--to (both included).

    \b
    Columns and units of every report: docs/analytics.md. Timestamps are ISO
    8601 with offset; CSV cells that a spreadsheet would run as a formula get a
    leading '. Aggregates covering fewer than k people are suppressed.

    \b
    Examples:
      occupancy export utilization --from 2026-03-02 --to 2026-03-13 --level floor
      occupancy export colocation --from 2026-03-02 --to 2026-03-13 -o coloc.csv
      occupancy export rooms --from 2026-03-02 --to 2026-03-31 --format parquet -o rooms.parquet
      occupancy export rooms --from 2026-03-02 --to 2026-03-31 --level department
      occupancy export hour-of-week --from 2026-03-02 --to 2026-03-29 --level space --zone f0-finance
      occupancy export hour-of-week --from 2026-03-02 --to 2026-03-29 --level floor --all-hours
      occupancy export intervals --from 2026-03-02 --to 2026-03-06 --floor f1 --format parquet -o iv.parquet
      occupancy export forecast --from 2026-01-05 --to 2026-12-27 --plan horizon=8 -o fc.csv
      occupancy export whatif --from 2026-09-07 --to 2026-11-27 --plan close=f2:fri
      occupancy export portfolio --from 2026-03-02 --to 2026-03-29 -o portfolio.csv
      occupancy export portfolio --from 2026-01-05 --to 2026-03-29 --level week
    """
    from analytics.reports import Filters, write_report

    if report in PLAN_REPORTS:
        try:
            options = parse_plan_options(plan_opts)
        except PlanOptionError as exc:
            raise click.ClickException(str(exc)) from exc
        run_report(cli, report, first, last, options, fmt, output, table=False)
        return
    check_export_args(first, last, fmt, output)
    filters = Filters(
        site=cli.settings.site,
        floor=floor,
        zone=zone,
        department=department,
        working_hours_only=not all_hours,
    )
    frame = _build_report(
        cli, report, first.date(), last.date(), level, filters, rollup
    )
    write_report(frame, fmt, output if output is not None else sys.stdout.buffer)
    if output is not None:
        click.echo(f"{report}: {len(frame)} rows → {output}", err=True)


def _build_report(
    cli: CliContext,
    report: str,
    first: dt.date,
    last: dt.date,
    level: str | None,
    filters: Filters,
    rollup: bool,
) -> pd.DataFrame:
    """The frame of ``report``; a report or store error becomes a click error."""
    from analytics.reports import ReportError, build_report
    from analytics.store import StoreError

    conn = _connect(cli)
    try:
        return build_report(
            conn,
            report,
            first,
            last,
            level=level,
            filters=filters,
            settings=cli.settings,
            rollup=rollup,
        )
    except (ReportError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()


@click.command("evaluate")
@click.option(
    "--ground-truth",
    "truth_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory written by `occupancy simulate --ground-truth DIR`.",
)
@pass_ctx
def evaluate(cli: CliContext, truth_dir: Path) -> None:
    """Compare the stored results with the simulator's ground truth and print
    the error per measure (run `occupancy analyze` first).

    \b
    Example:
      occupancy simulate --days 10 --ground-truth truth/ && occupancy analyze --full
      occupancy evaluate --ground-truth truth/
    """
    from analytics import store
    from analytics.calendar import Calendar
    from analytics.evaluate import evaluation_lines, read_truth, truth_days

    try:
        truth = read_truth(truth_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    s = cli.settings
    conn = _connect(cli)
    try:
        cal = Calendar.from_settings(s, timezone=store.site_timezone(conn, s))
        first, last = truth_days(truth, cal)
        spaces, zones = store.read_metadata(conn)
        measured = {
            "space_daily": store.read_rollup(
                conn, "analytics_space_daily", first, last
            ),
            "room_headcount": store.read_rollup(
                conn, "analytics_room_headcount", first, last
            ),
            "colocation": store.read_colocation(
                conn, first, last, settings=s, by_source=False
            ),
        }
    finally:
        conn.close()
    click.echo(f"ground truth {first}..{last}")
    for line in evaluation_lines(
        truth, measured, spaces, zones, cal, float(s.bucket_minutes)
    ):
        click.echo(line)


@click.group("bookings")
def bookings() -> None:
    """Room bookings (for no-show rate and unbooked use)."""


@bookings.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def bookings_import(cli: CliContext, file: Path) -> None:
    """Import FILE.csv with columns room_id,start,end,organiser_department,
    expected_attendees (start/end ISO 8601 with offset). Re-importing updates.

    \b
    Example:
      occupancy bookings import bookings.csv
    """
    from analytics import store
    from analytics.bookings import BookingsError, read_bookings_csv, unknown_rooms

    try:
        frame = read_bookings_csv(file)
    except BookingsError as exc:
        raise click.ClickException(str(exc)) from exc
    conn = _connect(cli)
    try:
        spaces, _ = store.read_metadata(conn)
        unknown = unknown_rooms(frame, spaces)
        if unknown:
            raise click.ClickException(
                f"{file}: unknown room(s) {', '.join(unknown[:5])}"
            )
        n = store.import_bookings(conn, frame)
    finally:
        conn.close()
    click.echo(f"imported {n} bookings from {file}")


bookings.add_command(_bookings_sync)

COMMANDS = [analyze, export, evaluate, bookings, plan]
