"""The in-process half of ``occupancy analyze``: partitions (a site's chunk of
days, :mod:`analytics.partitions`) read, computed and written with the I/O in
threads beside the compute (:func:`compute_runs`). Orchestrated by
:func:`analytics.pipeline.run_analyze`."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import pandas as pd

from analytics.calendar import local_days_utc_range
from analytics.pipeline import CONTEXT
from occupancy.db import Connection

if TYPE_CHECKING:
    from analytics.partitions import AnalyzePlan, Partition

__all__ = ["ChunkIO", "compute_runs"]


class ChunkIO:
    """Reads a chunk's events and writes its rollups, timing both.

    Consecutive chunks of a site overlap by two days (the last day of one is
    context of the next and the reverse): the events of [end - CONTEXT, end +
    CONTEXT) of a chunk are kept and not read again for the site's next one.
    The next chunk sees exactly the rows with lo <= ts < hi either way (only
    the row order differs, and sessionization sorts by space and time)."""

    def __init__(self, conn: Connection, plan: AnalyzePlan) -> None:
        self.conn = conn
        self.plan = plan
        self.staged = False
        self.totals: dict[str, int] = {}
        self.phases = {"read": 0.0, "compute": 0.0, "write": 0.0}
        self._tail: list[tuple[str, pd.Timestamp, pd.Timestamp, pd.DataFrame]] = []

    def _events(
        self, c: Connection, site: str, lo: pd.Timestamp, hi: pd.Timestamp
    ) -> pd.DataFrame:
        from analytics import store

        sp = self.plan.site(site)
        known, scope = list(sp.known), sp.scope
        tail = self._tail
        if tail and tail[0][0] == site and tail[0][1] <= lo < tail[0][2] <= hi:
            _site, _t_lo, t_hi, kept = tail.pop()
            fresh = store.read_events(c, t_hi, hi, known=known, scope=scope)
            return pd.concat(
                [kept[(kept["ts"] >= lo).to_numpy()], fresh], ignore_index=True
            )
        tail.clear()
        return store.read_events(c, lo, hi, known=known, scope=scope)

    def read(self, c: Connection, part: Partition) -> tuple[pd.DataFrame, pd.DataFrame]:
        from analytics import store

        t = time.perf_counter()
        sp = self.plan.site(part.site)
        start, end = local_days_utc_range(sp.cal, part.first, part.last)
        events = self._events(c, part.site, start - CONTEXT, end + CONTEXT)
        keep_from = end - CONTEXT
        kept = events[(events["ts"] >= keep_from).to_numpy()]
        self._tail[:] = [(part.site, keep_from, end + CONTEXT, kept)]
        sightings = store.read_sightings(c, start, end, sp.scope)
        self.phases["read"] += time.perf_counter() - t
        return events, sightings

    def write(self, part: Partition, frames: dict[str, pd.DataFrame]) -> None:
        from analytics import store

        t = time.perf_counter()
        written = store.write_rollups(
            self.conn,
            part.first,
            part.last,
            frames,
            staged=self.staged,
            scope=self.plan.site(part.site).scope,
        )
        for k, v in written.items():
            self.totals[k] = self.totals.get(k, 0) + v
        self.phases["write"] += time.perf_counter() - t


def compute_runs(
    io: ChunkIO,
    runs: list[Partition],
    compute: Callable[[pd.DataFrame, pd.DataFrame, Partition], dict[str, pd.DataFrame]],
    read_conn: Connection | None,
    say: Callable[[str], None],
) -> int:
    """Every run read, computed and written; the number of events read.

    I/O runs in threads while the main thread computes (psycopg2 and Arrow
    release the GIL while the server works): chunk i+1 is read and chunk i-1
    written during the compute of chunk i. With ``read_conn`` the reads have a
    second connection and thread, so the server reads and writes at the same
    time; without, one thread does both on ``io.conn``, in submission order.
    At most one chunk's events ahead and one chunk's rollups behind are held;
    chunks are independent, so the results are those of the sequential order."""
    n_events = 0
    with (
        ThreadPoolExecutor(1, "analyze-write") as writer,
        ThreadPoolExecutor(1, "analyze-read") as reader,
    ):
        read_pool, rconn = (reader, read_conn) if read_conn else (writer, io.conn)
        pending_write: Future[None] | None = None
        next_read = read_pool.submit(io.read, rconn, runs[0]) if runs else None
        for i, run in enumerate(runs, 1):
            assert next_read is not None
            events, sightings = next_read.result()
            if i < len(runs):
                next_read = read_pool.submit(io.read, rconn, runs[i])
            t = time.perf_counter()
            frames = compute(events, sightings, run)
            io.phases["compute"] += time.perf_counter() - t
            n_events += len(events) + len(sightings)
            say(
                f"analyze: {run.site} {run.first}..{run.last} ({i}/{len(runs)}) "
                f"{len(events)} events, {len(sightings)} sightings"
            )
            del events, sightings
            if pending_write is not None:
                pending_write.result()  # one write in flight; raises its error
            pending_write = writer.submit(io.write, run, frames)
            del frames
        if pending_write is not None:
            pending_write.result()
    return n_events
