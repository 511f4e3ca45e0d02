"""``occupancy analyze`` past one process: its partitions computed in local
processes (setting ``analyze_workers``, ``--workers``) or on the workers of a
Dask distributed cluster (setting ``dask_scheduler``, ``--dask-scheduler``).

A partition is one site × one chunk of consecutive local days of that site
(:mod:`analytics.partitions`), the same partitions a single-process run
computes. Partitions are independent: a partition's rollups are keyed by its
site's own local days and ids and computed from the database alone — its
site's events with one day of context on each side (sessions crossing
midnight, the stuck-sensor cap of at most 24 h) and its sightings; the weekly
co-location release is built at read time from the daily counts
(:mod:`analytics.release`), so no rollup written here spans two partitions.
A task opens its own connection, reads, computes
(:func:`analytics.pipeline.compute_days`) and returns the frames; this process
writes them partition by partition in order, one transaction each replacing
only that site's rows of those days, as the single-process run does. The rows
are the same (tests/analytics/test_analytics_parallel.py,
tests/analytics/test_analytics_portfolio.py).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics.calendar import local_days_utc_range
from analytics.errors import ParallelError
from analytics.partitions import AnalyzePlan, Partition
from analytics.pipeline import CONTEXT
from occupancy.settings import Settings

if TYPE_CHECKING:
    from analytics.chunk_io import ChunkIO

__all__ = ["ParallelError", "PartitionResult", "Partitions", "compute_partition"]

#: Seconds to wait for the Dask scheduler before giving up.
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class PartitionTask:
    """What every partition needs: where the events are, and the plan."""

    database_url: str
    timeout_s: int
    plan: AnalyzePlan


@dataclass
class PartitionResult:
    frames: dict[str, pd.DataFrame]
    n_events: int
    read_s: float
    compute_s: float


def compute_partition(task: PartitionTask, run: Partition) -> PartitionResult:
    """The rollups of one site's chunk of days: read on a connection of its
    own (the site's events with one day of context on each side, its
    sightings), then computed. Runs in a worker process or on a Dask worker."""
    from analytics import store
    from occupancy.db import connect

    t = time.perf_counter()
    sp = task.plan.site(run.site)
    start, end = local_days_utc_range(sp.cal, run.first, run.last)
    conn = connect(
        task.database_url, timeout_s=task.timeout_s, application_name="analyze-worker"
    )
    try:
        events = store.read_events(
            conn, start - CONTEXT, end + CONTEXT, known=list(sp.known), scope=sp.scope
        )
        sightings = store.read_sightings(conn, start, end, sp.scope)
        conn.rollback()
    finally:
        conn.close()
    t_read = time.perf_counter()
    frames = task.plan.compute(events, sightings, run)
    return PartitionResult(
        frames,
        len(events) + len(sightings),
        t_read - t,
        time.perf_counter() - t_read,
    )


_INSTALLED: list[PartitionTask] = []


def _install(task: PartitionTask) -> None:
    """Worker-process initializer: the task, sent once per process."""
    _INSTALLED[:] = [task]


def _compute_installed(run: Partition) -> PartitionResult:
    return compute_partition(_INSTALLED[0], run)


Submit = Callable[[Partition], Any]  # returns a future with .result() and .cancel()


class Partitions:
    """The partitions of ``plan`` computed by ``workers`` local processes, or by
    the Dask cluster at ``scheduler`` when given."""

    def __init__(
        self,
        settings: Settings,
        plan: AnalyzePlan,
        *,
        workers: int,
        scheduler: str | None,
    ) -> None:
        if workers < 1:
            raise ParallelError(
                f"analyze workers {workers}: must be at least 1"
                " (--workers, setting analyze_workers)"
            )
        if scheduler and "://" not in scheduler:
            raise ParallelError(
                f"Dask scheduler {scheduler!r}: give an address such as"
                " tcp://host:8786 (--dask-scheduler, setting dask_scheduler)"
            )
        self.plan = plan
        self.workers = workers
        self.scheduler = scheduler
        self.task = PartitionTask(
            settings.effective_database_url, settings.db_connect_timeout_s, plan
        )

    def run(self, io: ChunkIO, say: Callable[[str], None]) -> int:
        """Every partition computed in parallel and written through ``io`` in
        order; the number of events and sightings read."""
        pool = self._dask() if self.scheduler else self._processes()
        with pool as (submit, slots, where):
            say(f"analyze: {len(self.plan.runs)} partition(s) on {where}")
            return _drain(io, list(self.plan.runs), submit, 2 * slots, say)

    @contextmanager
    def _processes(self) -> Iterator[tuple[Submit, int, str]]:
        n = min(self.workers, max(len(self.plan.runs), 1))
        # spawn: a fresh interpreter per worker (no forked locks or sockets).
        with ProcessPoolExecutor(
            n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_install,
            initargs=(self.task,),
        ) as pool:

            def submit(run: Partition) -> Any:
                return pool.submit(_compute_installed, run)

            yield submit, n, f"{n} local process(es)"

    @contextmanager
    def _dask(self) -> Iterator[tuple[Submit, int, str]]:
        from distributed import Client

        untyped: Any = Client  # distributed has no type hints
        try:
            client = untyped(
                self.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise ParallelError(
                f"cannot reach the Dask scheduler {self.scheduler}"
                f" (--dask-scheduler, setting dask_scheduler): {exc}"
            ) from exc
        try:
            slots = max(sum(client.nthreads().values()), 1)
            shared = client.scatter(self.task, broadcast=True, hash=False)

            def submit(run: Partition) -> Any:
                return client.submit(
                    compute_partition,
                    shared,
                    run,
                    pure=False,
                    key=f"analyze-{run.site}-{run.first}-{run.last}-{time.time_ns()}",
                )

            yield submit, slots, f"Dask {self.scheduler} ({slots} worker thread(s))"
        finally:
            client.close()


def _drain(
    io: ChunkIO,
    runs: list[Partition],
    submit: Submit,
    window: int,
    say: Callable[[str], None],
) -> int:
    """Submit the partitions (at most ``window`` in flight), write each result in
    order (one write in flight beside the waiting)."""
    todo = iter(runs)
    pending: deque[tuple[Partition, Any]] = deque()

    def more() -> None:
        run = next(todo, None)
        if run is not None:
            pending.append((run, submit(run)))

    for _ in range(max(window, 1)):
        more()
    n_events = 0
    try:
        with ThreadPoolExecutor(1, "analyze-write") as writer:
            last_write = None
            for i in range(1, len(runs) + 1):
                run, future = pending.popleft()
                result: PartitionResult = future.result()
                more()
                io.phases["read"] += result.read_s
                io.phases["compute"] += result.compute_s
                n_events += result.n_events
                say(
                    f"analyze: {run.site} {run.first}..{run.last} ({i}/{len(runs)}) "
                    f"{result.n_events} events and sightings"
                )
                if last_write is not None:
                    last_write.result()  # one write in flight; raises its error
                last_write = writer.submit(io.write, run, result.frames)
                del result
            if last_write is not None:
                last_write.result()
    except BaseException:
        for _run, future in pending:
            future.cancel()
        raise
    return n_events
