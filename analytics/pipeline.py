"""``occupancy analyze``: which local days to (re)compute, and computing them.

:func:`compute_days` is pure (frames in, rollup frames out). :func:`run_analyze`
orchestrates with :mod:`analytics.store` doing all the I/O. Days are computed in
chunks of consecutive days; each chunk reads its events with one day of context
before and after, so a day's result never depends on how days were chunked —
which is what makes the incremental run (only the days touched by new or late
events, and their neighbours) identical to a full recompute.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from analytics.calendar import Calendar, bucket_frame, local_days_utc_range
from analytics.coloc_weeks import refresh_weeks
from analytics.colocation import colocation_daily, department_presence
from analytics.patterns import level_hourly
from analytics.rooms import room_headcount
from analytics.sessions import space_intervals
from analytics.space_months import refresh_months
from analytics.utilization import level_buckets, pct, space_daily_hourly
from occupancy.db import Connection
from occupancy.settings import Settings

if TYPE_CHECKING:
    from analytics.chunk_io import ChunkIO
    from analytics.partitions import AnalyzePlan
    from analytics.watermark import Arrivals

logger = logging.getLogger(__name__)

__all__ = [
    "AnalyzeParams",
    "AnalyzeReport",
    "DayRun",
    "compute_days",
    "day_runs",
    "run_analyze",
]

CONTEXT = dt.timedelta(days=1)


@dataclass(frozen=True)
class AnalyzeParams:
    """The analysis rules in seconds [s]."""

    heartbeat_timeout_s: float = 1200.0
    gap_bridge_s: float = 900.0
    stuck_s: float = 16 * 3600.0
    desk_min_hour_s: float = 300.0
    desk_min_day_s: float = 1800.0
    collab_min_hour_s: float = 600.0
    collab_min_day_s: float = 3600.0

    @classmethod
    def from_settings(cls, s: Settings) -> AnalyzeParams:
        stuck_h = min(float(getattr(s, "stuck_after_h", 16.0)), 24.0)
        return cls(
            heartbeat_timeout_s=float(s.heartbeat_timeout_min) * 60,
            gap_bridge_s=float(s.gap_bridge_min) * 60,
            stuck_s=stuck_h * 3600,
            desk_min_hour_s=float(s.desk_min_hour_min) * 60,
            desk_min_day_s=float(s.desk_min_day_min) * 60,
            collab_min_hour_s=float(s.collab_min_hour_min) * 60,
            collab_min_day_s=float(s.collab_min_day_min) * 60,
        )


def compute_days(  # noqa: PLR0913  (the frames it joins, as tests and benchmarks pass them)
    events: pd.DataFrame,
    sightings: pd.DataFrame,
    badge_departments: pd.DataFrame,
    spaces: pd.DataFrame,
    zones: pd.DataFrame,
    cal: Calendar,
    params: AnalyzeParams,
    first: dt.date,
    last: dt.date,
) -> dict[str, pd.DataFrame]:
    """All rollups of local days ``first``..``last``. ``events`` must cover
    those days plus one day of context on each side. Returns frames named as
    the tables they fill: analytics_space_daily, analytics_space_hourly,
    desk_daily_utilization,
    analytics_level_buckets, analytics_room_headcount, analytics_dept_presence,
    analytics_data_quality, and the co-location daily counts
    (analytics.colocation.colocation_daily)."""
    iv, stuck, grid, sd, sh = _space_rollups(events, spaces, cal, params, first, last)
    known = set(spaces["space_id"])
    sd_known = sd[sd["space_id"].isin(known)]
    sensed = spaces[
        spaces["space_id"].isin(set(iv["space_id"]) | set(stuck["space_id"]))
    ]
    lb = level_buckets(iv, sensed, grid, cal)
    rooms = spaces.loc[spaces["kind"] != "desk", "space_id"]
    rh = room_headcount(iv, rooms, grid, cal.bucket_s)
    rh = rh[rh["space_id"].isin(known)]
    dp = _available_presence(
        department_presence(sightings, badge_departments, zones, cal.bucket_s),
        grid,
        cal.bucket_s,
    )
    dq = _data_quality(sd, known | set(zones["zone_id"]))
    return {
        **colocation_daily(dp),
        "analytics_space_daily": sd_known.reset_index(drop=True),
        "analytics_space_hourly": sh[sh["space_id"].isin(known)].reset_index(drop=True),
        "desk_daily_utilization": _desk_daily(sd_known, spaces),
        "analytics_level_buckets": lb,
        "analytics_level_hourly": level_hourly(lb, cal.timezone),
        "analytics_room_headcount": rh.reset_index(drop=True),
        "analytics_dept_presence": dp[_DEPT_PRESENCE].reset_index(drop=True),
        "analytics_data_quality": dq.reset_index(drop=True),
    }


_DEPT_PRESENCE = [
    "bucket_start",
    "day",
    "zone_id",
    "source",
    "department_id",
    "people",
    "badges",
]


def _space_rollups(
    events: pd.DataFrame,
    spaces: pd.DataFrame,
    cal: Calendar,
    params: AnalyzeParams,
    first: dt.date,
    last: dt.date,
) -> tuple[pd.DataFrame, ...]:
    """(intervals, stuck intervals, bucket grid, space daily, space hourly)
    of local days ``first``..``last``."""
    _start, end = local_days_utc_range(cal, first, last)
    iv, stuck = space_intervals(
        events,
        heartbeat_timeout_s=params.heartbeat_timeout_s,
        gap_bridge_s=params.gap_bridge_s,
        stuck_s=params.stuck_s,
        horizon_s=float((end + CONTEXT).value) / 1e9,
    )
    grid = bucket_frame(cal, first, last, available_only=False)
    sd, sh = space_daily_hourly(
        iv,
        stuck,
        spaces,
        grid,
        cal,
        use=params,
    )
    return iv, stuck, grid, sd, sh


def _desk_daily(sd_known: pd.DataFrame, spaces: pd.DataFrame) -> pd.DataFrame:
    """The ``desk_daily_utilization`` rows of the desks' daily rollup."""
    desks = set(spaces.loc[spaces["kind"] == "desk", "space_id"])
    dd = sd_known[sd_known["space_id"].isin(desks)]
    return pd.DataFrame(
        {
            "day": dd["day"].to_numpy(),
            "space_id": dd["space_id"].to_numpy(),
            "occupied_s": dd["occupied_s"].to_numpy(),
            "available_s": dd["measured_s"].to_numpy(),
            "time_used_pct": pct(dd["occupied_s"], dd["measured_s"])
            .fillna(0.0)
            .to_numpy(),
        }
    )


def _available_presence(
    dp: pd.DataFrame, grid: pd.DataFrame, bucket_s: int
) -> pd.DataFrame:
    """Department presence rows in the available buckets of ``grid``, with
    their local day and bucket start."""
    b0 = int(grid["bucket"].iloc[0])
    pos = dp["bucket"].to_numpy() - b0
    ok = (pos >= 0) & (pos < len(grid))
    dp = dp[ok]
    pos = pos[ok]
    dp = dp[grid["available"].to_numpy()[pos]].copy()
    dp["day"] = grid["day"].to_numpy()[dp["bucket"].to_numpy() - b0]
    dp["bucket_start"] = pd.to_datetime(
        dp["bucket"].to_numpy() * bucket_s, unit="s", utc=True
    )
    return dp


def _data_quality(sd: pd.DataFrame, known: set[str]) -> pd.DataFrame:
    """Stuck time per space and day, and occupied time of ids that are no
    space or zone of the building (``unknown_space``)."""
    dq = sd.loc[sd["stuck_s"] > 0, ["day", "space_id", "stuck_s"]].rename(
        columns={"stuck_s": "seconds"}
    )
    dq.insert(2, "issue", "stuck")
    # Zone counters (space_id = a zone) are not spaces: not reported as unknown.
    unknown = sd[~sd["space_id"].isin(known)]
    if len(unknown):
        extra = unknown[["day", "space_id", "occupied_total_s"]].rename(
            columns={"occupied_total_s": "seconds"}
        )
        extra.insert(2, "issue", "unknown_space")
        dq = pd.concat([dq, extra], ignore_index=True)
    return dq


class DayRun(NamedTuple):
    """A chunk of consecutive local days, both included."""

    first: dt.date
    last: dt.date


def day_runs(days: Iterable[dt.date], max_len: int = 14) -> list[DayRun]:
    """Consecutive days grouped into (first, last) runs of at most ``max_len``."""
    ordered = sorted(set(days))
    if not ordered:
        return []
    ords = np.array([d.toordinal() for d in ordered])
    breaks = np.r_[True, np.diff(ords) != 1]
    run_id = np.cumsum(breaks)
    runs: list[DayRun] = []
    for rid in np.unique(run_id):
        block = ords[run_id == rid]
        for i in range(0, len(block), max_len):
            part = block[i : i + max_len]
            runs.append(
                DayRun(
                    dt.date.fromordinal(int(part[0])),
                    dt.date.fromordinal(int(part[-1])),
                )
            )
    return runs


@dataclass
class AnalyzeReport:
    days: int
    chunks: int
    events: int
    rows: dict[str, int]
    seconds: float
    mode: str

    def __str__(self) -> str:
        rows = ", ".join(f"{k}={v}" for k, v in self.rows.items())
        return f"{self.mode}: {self.days} day(s) in {self.chunks} chunk(s), {self.events} events read, {self.seconds:.1f} s; rows {rows}"


def _sequential(
    io: ChunkIO,
    plan: AnalyzePlan,
    connect: Callable[[], Connection] | None,
    say: Callable[[str], None],
) -> int:
    """Every partition computed in this process (reads on a second
    connection from ``connect`` when there are several)."""
    from analytics.chunk_io import compute_runs

    runs = list(plan.runs)
    rconn = connect() if connect is not None and len(runs) > 1 else None
    try:
        return compute_runs(io, runs, plan.compute, rconn, say)
    finally:
        if rconn is not None:
            rconn.close()


def _write_runs(
    io: ChunkIO,
    plan: AnalyzePlan,
    rewrite: bool,
    compute_all: Callable[[], int],
    say: Callable[[str], None],
) -> int:
    """``compute_all`` (it writes every chunk through ``io``) into staged
    copies of the rollup tables swapped in at the end when ``rewrite`` (and
    this role may), else in place; a failure leaves the tables as they were
    before the failing chunk. Returns the number of events read."""
    from analytics import store

    conn = io.conn
    try:
        io.staged = rewrite and store.begin_rewrite(
            conn, min(r.first for r in plan.runs), max(r.last for r in plan.runs)
        )
        n_events = compute_all()
        if io.staged:
            t = time.perf_counter()
            store.finish_rewrite(conn)
            io.phases["write"] += time.perf_counter() - t
            say(
                f"analyze: indexes built, tables swapped in {time.perf_counter() - t:.1f} s"
            )
    except BaseException:
        if io.staged:
            store.abandon_rewrite(conn)
        raise
    return n_events


def run_analyze(  # noqa: PLR0913  (keyword options of the command)
    conn: Connection,
    settings: Settings,
    *,
    first: dt.date | None = None,
    last: dt.date | None = None,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
    connect: Callable[[], Connection] | None = None,
    rewrite: bool | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    arrivals: Arrivals | None = None,
) -> AnalyzeReport:
    """Compute and store rollups. ``full`` (or no watermark yet): every day in
    [first, last] (default: the days that have events). Otherwise only the days
    touched by events received after the watermark, plus their neighbours.
    ``connect``: opens another connection to the same database, on which the
    events are read while the rollups are written on ``conn`` (faster with
    several chunks; the results are the same). ``rewrite``: a full run writes
    the rollup tables anew and swaps them in (:mod:`analytics.db_rewrite`)
    instead of replacing its days chunk by chunk; same rows. Default: when
    every day with events is recomputed in more than one chunk. Partitions:
    site × chunk of its days (:mod:`analytics.partitions`). ``workers`` (default: setting ``analyze_workers``) > 1: the chunks are
    read and computed in that many local processes; ``scheduler`` (default:
    setting ``dask_scheduler``): on that Dask cluster's workers instead
    (:mod:`analytics.parallel`). Either way this process writes each partition
    in one transaction, in partition order, and the rows are the same.
    ``arrivals``: :func:`analytics.watermark.pending`, if the caller asked."""
    from analytics import store

    t0 = time.perf_counter()
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    arrivals, mark, new_mark = store.run_marks(
        conn, full, arrivals, settings.analyze_arrival_grace_s
    )
    from analytics.partitions import plan_analyze

    plan = plan_analyze(conn, settings, mark, first, last, arrivals)
    if rewrite is None:
        rewrite = first is None and last is None and len(plan.runs) > 1
    rewrite = rewrite and plan.mode == "full" and bool(plan.runs)
    from analytics.chunk_io import ChunkIO

    io = ChunkIO(conn, plan)
    workers = settings.analyze_workers if workers is None else workers
    scheduler = settings.dask_scheduler if scheduler is None else scheduler
    compute_all: Callable[[], int]
    if workers != 1 or scheduler:
        from analytics.parallel import Partitions

        parts = Partitions(settings, plan, workers=workers, scheduler=scheduler)
        compute_all = partial(parts.run, io, say)
    else:
        compute_all = partial(_sequential, io, plan, connect, say)
    n_events = _write_runs(io, plan, rewrite, compute_all, say)
    _finish(conn, plan, io, new_mark)
    return _report(plan, io, n_events, time.perf_counter() - t0, say)


def _finish(
    conn: Connection, plan: AnalyzePlan, io: ChunkIO, new_mark: dt.datetime | None
) -> None:
    """After the chunks: the week cells of released co-location and the
    per-space month sums (read_space_agg) of the run's days, then the
    watermark, last (a run that fails before it is redone whole)."""
    from analytics import store

    t = time.perf_counter()
    refresh_weeks(conn, plan.days)
    refresh_months(conn, plan.days)
    io.phases["write"] += time.perf_counter() - t
    if new_mark is not None:
        store.write_watermark(conn, new_mark)


def _report(
    plan: AnalyzePlan,
    io: ChunkIO,
    n_events: int,
    seconds: float,
    say: Callable[[str], None],
) -> AnalyzeReport:
    say(
        "analyze phases: read {read:.1f} s, compute {compute:.1f} s, write {write:.1f} s"
        " (read and write overlap the compute; with workers, read and compute"
        " are summed over them), total {total:.1f} s".format(**io.phases, total=seconds)
    )
    return AnalyzeReport(
        len(plan.days), len(plan.runs), n_events, io.totals, seconds, plan.mode
    )
