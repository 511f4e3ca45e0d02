"""The ``occupancy analyze`` command, apart from the other analytics commands
(:mod:`analytics.cli`) so that running it (every few minutes, incremental)
imports only what it needs: the command group loads this module alone for it
(``app.cli``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from occupancy.clictx import CliContext, pass_ctx

if TYPE_CHECKING:
    from occupancy.db import Connection

__all__ = ["COMMANDS", "analyze"]


def _progress(msg: str) -> None:
    click.echo(msg, err=True)


@click.command("analyze")
@click.option(
    "--from",
    "first",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First local day (default: first day with events).",
)
@click.option(
    "--to",
    "last",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last local day, included (default: last day with events).",
)
@click.option(
    "--full", is_flag=True, help="Recompute every day in range, ignoring the watermark."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local processes computing chunks of days in parallel "
    "(default: setting analyze_workers, 1). Same rollups for any number.",
)
@click.option(
    "--dask-scheduler",
    "scheduler",
    metavar="ADDRESS",
    default=None,
    help="Compute the chunks on this Dask cluster (tcp://host:8786) instead "
    "(default: setting dask_scheduler). Its workers read the database themselves.",
)
@pass_ctx
def analyze(
    cli: CliContext,
    first: dt.datetime | None,
    last: dt.datetime | None,
    full: bool,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Compute and store the rollups (utilization, patterns, rooms, co-location).

    \b
    The first run computes every day with events. Later runs only recompute the
    local days touched by events received since the last run (late events
    included) and their neighbours; the result is identical to a full recompute.
    Progress goes to stderr.

    \b
    Examples:
      occupancy analyze                          # incremental (first run: full)
      occupancy analyze --full                   # recompute everything
      occupancy analyze --from 2026-03-02 --to 2026-03-13 --full
      occupancy analyze --full --workers 4       # 4 local processes
      occupancy analyze --full --dask-scheduler tcp://scheduler:8786

    \b
    Chunks of up to 14 days are the partitions: computed apart (locally in
    processes or on Dask workers) and written here one transaction per chunk,
    in order; the rows are the same as a single-process run's.
    """
    from analytics.errors import ParallelError

    if first and last and last < first:
        raise click.ClickException(
            f"--to {last.date()} is before --from {first.date()}"
        )
    conn = cli.connect()
    try:
        _require_schema(conn)
        report = _run(
            cli,
            conn,
            first=first.date() if first else None,
            last=last.date() if last else None,
            full=full,
            workers=workers,
            scheduler=scheduler,
        )
    except ParallelError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    click.echo(report)


def _require_schema(conn: Connection) -> None:
    """Refuse to run on a schema older than this version's (an upgrade
    without ``occupancy db migrate``): name the missing migrations instead of
    failing later on a missing table."""
    from occupancy.db import applied_migrations, list_migrations

    done = set(applied_migrations(conn))
    conn.rollback()
    missing = [m for m in list_migrations() if m.version not in done]
    if missing:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
        raise click.ClickException(
            f"the database schema lacks {len(missing)} migration(s) of this "
            f"version ({names}): run `occupancy db migrate` first"
        )


def _run(cli: CliContext, conn: Connection, *, full: bool, **options: Any) -> str:
    """One run's report. Nothing arrived since the last run: done, before
    importing pandas and the compute (the command runs every few minutes)."""
    from analytics.watermark import pending

    arrivals = None if full else pending(conn)
    if arrivals is not None and arrivals.received_at is None:
        return "incremental: 0 day(s) in 0 chunk(s), nothing received"
    from analytics.malloc import keep_freed_memory
    from analytics.pipeline import run_analyze

    keep_freed_memory()
    report = run_analyze(
        conn,
        cli.settings,
        full=full,
        progress=_progress,
        connect=cli.connect,
        arrivals=arrivals,
        **options,
    )
    return str(report)


COMMANDS = [analyze]
