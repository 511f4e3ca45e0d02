"""``occupancy plan ...``: forecast, what-if, stacking plan, intervention
analysis and the neutral-ground scorecard, from the rollups. Each command
prints a table, or writes it with ``-o FILE`` (csv or parquet), as
``occupancy export <report> --plan KEY=VALUE ...`` does."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pandas as pd

from analytics.plan_reports import (
    PLAN_REPORTS,
    PlanOptionError,
    parse_plan_options,
    plan_report,
    planned_changes,
)
from occupancy.clictx import CliContext, pass_ctx

logger = logging.getLogger(__name__)

__all__ = [
    "COMMANDS",
    "PLAN_REPORTS",
    "PlanOptionError",
    "check_export_args",
    "parse_plan_options",
    "plan_report",
    "run_report",
]


def check_export_args(
    first: dt.datetime, last: dt.datetime, fmt: str, output: Path | None
) -> None:
    """--from..--to in order; parquet only to a file."""
    if last < first:
        raise click.ClickException(
            f"--to {last.date()} is before --from {first.date()}"
        )
    if fmt == "parquet" and output is None:
        raise click.ClickException("--format parquet needs -o FILE")


def run_report(
    cli: CliContext,
    name: str,
    first: dt.datetime,
    last: dt.datetime,
    options: dict[str, list[str]],
    fmt: str,
    output: Path | None,
    *,
    table: bool,
) -> None:
    """Build ``name`` and print it (``table``) or write it as an export."""
    from analytics.reports import write_report
    from analytics.store import StoreError

    check_export_args(first, last, fmt, output)
    conn = cli.connect()
    try:
        frame = plan_report(
            conn, name, first.date(), last.date(), options, cli.settings
        )
    except (StoreError, PlanOptionError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    if output is None and table:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            click.echo(frame.to_string(index=False) if len(frame) else "(no rows)")
        return
    write_report(frame, fmt, output if output is not None else sys.stdout.buffer)
    if output is not None:
        click.echo(f"{name}: {len(frame)} rows → {output}", err=True)


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
            click.option(
                "--from",
                "first",
                type=click.DateTime(["%Y-%m-%d"]),
                required=True,
                help="First local day of the measured period (history).",
            ),
            click.option(
                "--to",
                "last",
                type=click.DateTime(["%Y-%m-%d"]),
                required=True,
                help="Last local day, included.",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["csv", "parquet"]),
                default="csv",
                show_default=True,
                help="Format of -o FILE.",
            ),
            click.option(
                "-o",
                "--output",
                type=click.Path(path_type=Path),
                help="Write the table to FILE instead of printing it.",
            ),
        ]
    ):
        f = opt(f)
    return f


#: What a plan command's own options become: plan report options by key.
PlanOptions = dict[str, list[str]]


def _plan_command(
    name: str,
) -> Callable[[Callable[..., PlanOptions]], Callable[..., None]]:
    """Turn ``options(**own_options) -> PlanOptions`` into the body of the
    command of report ``name``: it takes the context and the :func:`_common`
    options, and :func:`run_report` prints the table (or writes -o FILE).
    The docstring of ``options`` is the command's help."""

    def decorate(options: Callable[..., PlanOptions]) -> Callable[..., None]:
        @functools.wraps(options)
        def command(
            cli: CliContext,
            first: dt.datetime,
            last: dt.datetime,
            fmt: str,
            output: Path | None,
            **own: Any,
        ) -> None:
            opts = options(**own)
            run_report(cli, name, first, last, opts, fmt, output, table=True)

        return pass_ctx(command)

    return decorate


def _check_planned(
    _ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """--planned-change values are DATE:FACTOR (refused here, before the
    database is opened, with the bad text named)."""
    try:
        planned_changes(list(value))
    except PlanOptionError as exc:
        raise click.BadParameter(str(exc)) from exc
    return value


@click.group("plan")
def plan() -> None:
    """Decisions from the measured rollups: forecast, what-if, stacking plan,
    intervention analysis ("did it work?") and the neutral-ground scorecard.
    Rules: docs/metrics.md ("Plan"). Every table is also an export:
    ``occupancy export <name> --plan KEY=VALUE``."""


@plan.command("forecast")
@_common
@click.option(
    "--horizon",
    type=click.IntRange(1, 8),
    default=4,
    show_default=True,
    help="Weeks to forecast after --to.",
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice(["building", "floor", "zone", "department"]),
    help="Levels to forecast (repeat; default all four).",
)
@click.option(
    "--scores",
    is_flag=True,
    help="Print the backtest scores (MAE, MASE, interval coverage per model).",
)
@click.option(
    "--planned-change",
    "planned",
    multiple=True,
    callback=_check_planned,
    metavar="DATE:FACTOR",
    help="A change announced in advance: from DATE on, demand × FACTOR (office"
    " days 2.5 → 3 a week: 2026-09-07:1.2); of named floors or departments only:"
    " 2026-09-07:1.2:departments=sales+it, ...:floors=f2. Repeat for several."
    " Applies to the forecast hours on/after DATE when DATE is after --to;"
    " intervals widen. Replaces the building file's and the setting's changes"
    " of the same date (DATE:1: none that day).",
)
@_plan_command("forecast")
def forecast_cmd(
    horizon: int,
    levels: tuple[str, ...],
    scores: bool,
    planned: tuple[str, ...],
) -> PlanOptions:
    """Hourly people and utilization for the --horizon weeks after --to, per
    building, floor, zone and department, with 80 % and 95 % prediction
    intervals, from the history --from..--to. Each group's model (seasonal
    naive or discounted least squares, with or without trend) is chosen by a
    rolling-origin backtest on that history.

    \b
    Examples:
      occupancy plan forecast --from 2026-01-05 --to 2026-12-27 --horizon 8
      occupancy plan forecast --from 2026-01-05 --to 2026-12-27 --scores
      occupancy plan forecast --from 2026-06-01 --to 2026-12-27 --level floor -o fc.csv
      occupancy plan forecast --from 2026-01-05 --to 2026-08-09 --horizon 8 \\
        --planned-change 2026-09-07:1.2
    """
    opts = {"horizon": [str(horizon)], "show": ["scores" if scores else "forecast"]}
    if levels:
        opts["levels"] = [",".join(levels)]
    if planned:
        opts["planned-change"] = list(planned)
    return opts


@plan.command("whatif")
@_common
@click.option(
    "--sharing", multiple=True, help="Desk-sharing ratio (desks per member), e.g. 0.7."
)
@click.option(
    "--close",
    multiple=True,
    help="Close a floor or zone on weekdays: SPACE:DAYS, e.g. f2:fri or f1-project:mon,fri.",
)
@click.option(
    "--move", multiple=True, help="Move a department: DEPT:SPACE, e.g. finance:f2."
)
@click.option(
    "--anchor",
    multiple=True,
    help="Anchor days: DEPT:DAYS, e.g. sales:tue,thu (repeat: all together).",
)
@click.option(
    "--desk-sharing",
    is_flag=True,
    help="Print the measured desks needed per department (p90 daily peak) instead.",
)
@_plan_command("whatif")
def whatif_cmd(
    sharing: tuple[str, ...],
    close: tuple[str, ...],
    move: tuple[str, ...],
    anchor: tuple[str, ...],
    desk_sharing: bool,
) -> PlanOptions:
    """Scenarios against the measured desk demand of --from..--to (p50, p90
    and max day): does the p90 day fit, overflow people per hour, desks and
    rooms freed, and the days that break it. A baseline row (today) first.

    \b
    Examples:
      occupancy plan whatif --from 2026-09-07 --to 2026-11-27 --close f2:fri
      occupancy plan whatif --from 2026-09-07 --to 2026-11-27 --sharing 0.6 --sharing 0.8
      occupancy plan whatif --from 2026-09-07 --to 2026-11-27 --move finance:f2-it
      occupancy plan whatif --from 2026-09-07 --to 2026-11-27 --anchor sales:tue,thu --anchor it:mon,wed
    """
    opts: dict[str, list[str]] = {
        "sharing": list(sharing),
        "close": list(close),
        "move": list(move),
        "anchor": list(anchor),
        "show": ["desk-sharing" if desk_sharing else "scenarios"],
    }
    return opts


@plan.command("stack")
@_common
@click.option(
    "--pair",
    multiple=True,
    help="A department pair to bring together: A:B (repeat). Default: the --lowest pairs by measured co-location lift.",
)
@click.option(
    "--lowest",
    type=click.IntRange(1, 50),
    default=3,
    show_default=True,
    help="Without --pair: this many pairs with the lowest lift.",
)
@click.option(
    "--floor-value",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Objective value of a wanted pair on one floor [people moved].",
)
@click.option(
    "--neutral-value",
    type=click.IntRange(0),
    default=10,
    show_default=True,
    help="Objective value of a wanted pair beside one neutral zone [people moved].",
)
@click.option(
    "--move-cost",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Cost of moving one person of demand.",
)
@click.option(
    "--time-limit",
    type=click.IntRange(1, 600),
    default=10,
    show_default=True,
    help="Solver time limit [s].",
)
@click.option(
    "--pairs",
    "show_pairs",
    is_flag=True,
    help="Print the wanted pairs (met today / in the plan) instead.",
)
@_plan_command("stack")
def stack_cmd(
    pair: tuple[str, ...],
    lowest: int,
    floor_value: int,
    neutral_value: int,
    move_cost: int,
    time_limit: int,
    show_pairs: bool,
) -> PlanOptions:
    """Propose a neighbourhood per department (OR-Tools CP-SAT, time-limited)
    so its p90 demand of --from..--to fits and wanted pairs share a floor or a
    neutral zone, against the people moved from today's plan. Objective:
    docs/metrics.md ("Stacking plan").

    \b
    Examples:
      occupancy plan stack --from 2026-09-07 --to 2026-11-27
      occupancy plan stack --from 2026-09-07 --to 2026-11-27 --pair finance:rnd --pair hr:it
      occupancy plan stack --from 2026-09-07 --to 2026-11-27 --move-cost 2 --pairs
    """
    opts = {
        "pair": list(pair),
        "lowest": [str(lowest)],
        "floor-value": [str(floor_value)],
        "neutral-value": [str(neutral_value)],
        "move-cost": [str(move_cost)],
        "time-limit": [str(time_limit)],
        "show": ["pairs" if show_pairs else "plan"],
    }
    return opts


@plan.command("intervention")
@_common
@click.option(
    "--change",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Day the change took effect (its week counts as after).",
)
@click.option(
    "--zone",
    "zones",
    multiple=True,
    required=True,
    help="A zone the change touched (repeat).",
)
@click.option(
    "--control",
    multiple=True,
    help="An untouched zone to compare with (repeat; default: every other zone of the same kind).",
)
@_plan_command("intervention")
def intervention_cmd(
    change: dt.datetime,
    zones: tuple[str, ...],
    control: tuple[str, ...],
) -> PlanOptions:
    """Did it work? The effect of a change (café moved, project space opened,
    policy changed) on cross-department co-location, diversity and
    utilization of the touched zones: before/after the change with a 95 %
    bootstrap interval over weeks, and difference-in-differences against
    untouched zones. Zone-weeks of fewer than k people are left out.

    \b
    Examples:
      occupancy plan intervention --from 2026-08-03 --to 2026-11-29 --change 2026-10-05 --zone f1-project
      occupancy plan intervention --from 2026-08-03 --to 2026-11-29 --change 2026-10-05 --zone f1-project --control f2-lounge
    """
    opts = {
        "change": [change.date().isoformat()],
        "zones": list(zones),
        "control": list(control),
    }
    return opts


@plan.command("scorecard")
@_common
@click.option(
    "--weekly",
    is_flag=True,
    help="Print the weekly metrics per shared zone (the trend) instead.",
)
@_plan_command("scorecard")
def scorecard_cmd(
    weekly: bool,
) -> PlanOptions:
    """The neutral-ground scorecard: shared zones ranked by cross-department
    mixing over --from..--to (share of department pairs that meet there, then
    lift), with diversity and the weekly trend. k-suppressed.

    \b
    Examples:
      occupancy plan scorecard --from 2026-09-07 --to 2026-11-29
      occupancy plan scorecard --from 2026-09-07 --to 2026-11-29 --weekly -o trend.csv
    """
    opts = {"show": ["weekly" if weekly else "scorecard"]}
    return opts


COMMANDS = [plan]
