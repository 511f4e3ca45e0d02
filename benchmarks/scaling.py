"""Benchmark of ``occupancy analyze --full`` past one process: a portfolio of
buildings in a private TimescaleDB, recomputed with 1, 2 and 4 local worker
processes (``--workers``) and on a Dask ``LocalCluster`` of two worker
processes (``--dask-scheduler``), as real subprocesses, in one run; every
run's rollup rows are checked equal to the single-process run's.

The portfolio: ``--buildings`` buildings of different sizes (60 to 400 desks,
floors of ~100 desks with 6 meeting rooms and a lounge each) in one site,
generated with the vectorized generator of benchmarks/analytics.py (desk
presence and heartbeats, room counts, BLE badge sightings of ~90 % of the
headcount), ``--weeks`` weeks of it.

    .venv/bin/python benchmarks/scaling.py [--buildings 20] [--weeks 16] [--workers 1,2,4]
        [--desk-scale 1.0] [--rounds 1] [--chunk-days 14] [--no-dask]

The data size is ``--buildings`` x ``--desk-scale`` x ``--weeks``: the full
portfolio at 8 weeks (``--desk-scale 1 --weeks 8 --chunk-days 7``: 2,978
desks, 6.95 M events and 5.15 M sightings, 8 chunks) loads in ~4 min and runs
1, 2, 4 and Dask twice in ~34 min on the 2-core machine at load 5-15
(docs/scaling.md); ``--desk-scale 0.5`` is half of that. Every
configuration runs on the same data in the same run (``--rounds 2``: twice,
interleaved), and the table gives each one's speed-up over one process,
overall and per round, and each run's CPU (the analyze process with its local
workers, and PostgreSQL; with Dask, the analyze process and the
``LocalCluster``'s worker processes): on a shared machine the ratios and the
CPU are the figures, not the seconds. The last line is the arithmetic for
200 buildings (10 x the full mix), linear in desks x days, from the
single-process CPU.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_spec = importlib.util.spec_from_file_location(
    "bench_analytics", Path(__file__).with_name("analytics.py")
)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_analytics"] = bench  # its dataclasses look their module up
_spec.loader.exec_module(bench)

SIZES: tuple[int, ...] = (400, 350, 300, 250, 200, 200, 150, 150, 120, 120)
SIZES += (100, 100, 80, 80, 80, 60, 60, 60, 60, 60)


def portfolio(n: int, desk_scale: float = 1.0) -> pd.DataFrame:
    """The spaces of ``n`` buildings (ids prefixed ``bNN-``), sizes cycling
    through :data:`SIZES` times ``desk_scale`` (at least 20 desks)."""
    parts = []
    for b in range(n):
        desks = max(20, round(SIZES[b % len(SIZES)] * desk_scale))
        floors = max(1, desks // 100)
        sp = bench.make_spaces(desks, floors=floors)
        tag = f"b{b:02d}"
        for col in ("space_id", "zone_id", "floor_id"):
            sp[col] = tag + "-" + sp[col].astype(str)
        sp["building_id"] = tag
        parts.append(sp)
    frame: pd.DataFrame = pd.concat(parts, ignore_index=True)
    return frame


def load_metadata(conn: Any, spaces: pd.DataFrame, site: str = "hq") -> None:
    from analytics.store import copy_frame

    zones = spaces.drop_duplicates("zone_id")
    floors = spaces.drop_duplicates("floor_id")
    depts = sorted(set(spaces["department_id"].dropna()))
    buildings = sorted(set(spaces["building_id"]))
    with conn, conn.cursor() as cur:
        _site(cur, site, buildings, depts)
        copy_frame(
            cur,
            "floors",
            pd.DataFrame(
                {
                    "floor_id": floors["floor_id"].to_numpy(),
                    "building_id": floors["building_id"].to_numpy(),
                    "level": floors.groupby("building_id").cumcount().to_numpy(),
                    "name": floors["floor_id"].to_numpy(),
                    "width_m": 100.0,
                    "height_m": 100.0,
                }
            ),
        )
        cap = spaces.groupby("zone_id")["capacity"].sum()
        box = {"x": 0.0, "y": 0.0, "width": 1.0, "height": 1.0}
        copy_frame(
            cur,
            "zones",
            pd.DataFrame(
                {
                    "zone_id": zones["zone_id"].to_numpy(),
                    "floor_id": zones["floor_id"].to_numpy(),
                    "name": zones["zone_id"].to_numpy(),
                    "kind": zones["zone_kind"].to_numpy(),
                    "department_id": zones["department_id"].to_numpy(),
                    "capacity": cap.reindex(zones["zone_id"]).to_numpy(),
                    **box,
                }
            ),
        )
        copy_frame(
            cur,
            "spaces",
            pd.DataFrame(
                {
                    "space_id": spaces["space_id"].to_numpy(),
                    "zone_id": spaces["zone_id"].to_numpy(),
                    "kind": spaces["kind"].to_numpy(),
                    "name": spaces["space_id"].to_numpy(),
                    "capacity": spaces["capacity"].to_numpy(),
                    **box,
                }
            ),
        )


def _site(cur: Any, site: str, buildings: list[str], depts: list[str]) -> None:
    from analytics.store import copy_frame

    cur.execute(
        "INSERT INTO sites (site_id, name, timezone) VALUES (%s, 'portfolio', %s)",
        (site, bench.TZ),
    )
    for b in buildings:
        cur.execute(
            "INSERT INTO buildings (building_id, site_id, name) VALUES (%s, %s, %s)",
            (b, site, b),
        )
    copy_frame(
        cur,
        "departments",
        pd.DataFrame(
            {"department_id": depts, "site_id": site, "name": depts, "headcount": 0}
        ),
    )


def rollup_digest(conn: Any) -> dict[str, tuple[int, str]]:
    """Rows and an order-independent md5 of every rollup table's rows
    (computed_at left out)."""
    from psycopg2 import sql

    from analytics.db_io import ROLLUP_TABLES

    out = {}
    with conn.cursor() as cur:
        for table in ROLLUP_TABLES:
            cur.execute(
                """SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                     FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0
                      AND NOT attisdropped AND attname <> 'computed_at'""",
                (table,),
            )
            cols = cur.fetchone()[0]
            cur.execute(
                sql.SQL(
                    "SELECT count(*), md5(COALESCE(string_agg(r, '|' ORDER BY r), ''))"
                    " FROM (SELECT ({})::text AS r FROM {}) t"
                ).format(sql.SQL(cols), sql.Identifier(table))
            )
            n, digest = cur.fetchone()
            out[table] = (int(n), str(digest))
    conn.rollback()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--buildings", type=int, default=20)
    ap.add_argument("--weeks", type=int, default=16)
    ap.add_argument(
        "--desk-scale",
        type=float,
        default=1.0,
        help="building sizes times this (0.25: 60-400 desks become 20-100)",
    )
    ap.add_argument("--start", default="2026-01-05")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="every configuration this many times, interleaved (round 2 reversed)",
    )
    ap.add_argument(
        "--chunk-days",
        type=int,
        default=None,
        help="setting analyze_chunk_days of every run (default: the setting, 14)",
    )
    args = ap.parse_args()
    if args.chunk_days is not None:
        os.environ["OCCUPANCY_ANALYZE_CHUNK_DAYS"] = str(args.chunk_days)
    from app.services import PostgresServer, free_port
    from occupancy.db import connect, migrate

    first = dt.date.fromisoformat(args.start)
    last = first + dt.timedelta(days=7 * args.weeks - 1)
    spaces = portfolio(args.buildings, args.desk_scale)
    base = Path(tempfile.mkdtemp(prefix="bench-scaling-db-"))
    base.chmod(0o755)
    server = PostgresServer(base / "pg", free_port(), fsync=False)
    server.start()
    url = server.url()
    try:
        conn = connect(url)
        migrate(conn)
        load_metadata(conn, spaces)
        runs = [(r.first, r.last) for r in bench.day_runs(_days(first, last))]
        t0 = time.perf_counter()
        events, *_ = bench._load_year(conn, spaces, runs)
        sightings, holders = bench._load_badges(conn, spaces, runs)
        print(
            f"portfolio: {args.buildings} buildings, "
            f"{_desks(spaces)} desks, "
            f"{len(spaces)} spaces, {first}..{last}: {events:,} events, "
            f"{sightings:,} badge sightings of {holders} badge holders "
            f"(loaded in {time.perf_counter() - t0:.0f} s)"
        )
        _measure(conn, url, base / "pg" / "pgdata", args)
        conn.close()
    finally:
        server.stop()
    return 0


def _desks(spaces: pd.DataFrame) -> int:
    return int((spaces["kind"] == "desk").sum())


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _configs(args: argparse.Namespace) -> list[tuple[str, int | None, int | None]]:
    """(label, local workers, Dask LocalCluster workers) of every configuration."""
    out: list[tuple[str, int | None, int | None]] = [
        (f"{n} local process(es)", n, None)
        for n in (int(w) for w in args.workers.split(","))
    ]
    if not args.no_dask:
        out.append(("Dask LocalCluster, 2 worker processes", None, 2))
    return out


def _one(url: str, pgdata: Path, workers: int | None, dask_workers: int | None) -> Any:
    """One ``occupancy analyze --full`` subprocess with ``workers`` local
    processes or on a fresh Dask LocalCluster of ``dask_workers``; with Dask,
    the run's CPU includes the cluster's worker processes' (this process's
    reaped children, less the analyze process itself), as a local run's
    includes its workers'."""
    if not dask_workers:
        return bench._occupancy(
            url, pgdata, "analyze", "--full", "--workers", str(workers)
        )
    import dataclasses
    import resource

    from distributed import LocalCluster

    untyped: Any = LocalCluster  # distributed has no type hints
    before = _children_cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    cluster = untyped(
        n_workers=dask_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    try:
        address = cluster.scheduler_address
        run = bench._occupancy(
            url, pgdata, "analyze", "--full", "--dask-scheduler", address
        )
    finally:
        cluster.close()
    children = _children_cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - before
    return dataclasses.replace(run, cpu=max(run.cpu, children))


def _children_cpu(usage: Any) -> float:
    return float(usage.ru_utime + usage.ru_stime)


def _measure(conn: Any, url: str, pgdata: Path, args: argparse.Namespace) -> None:
    """Every configuration once per round, back to back on the same data
    (round 2 in reverse order, and so on, so a drift of the machine's load
    does not favour one configuration); then the table of medians and of the
    ratios to one process."""
    configs = _configs(args)
    reference = None
    runs: dict[str, list[Any]] = {label: [] for label, _, _ in configs}
    same: dict[str, bool] = {label: True for label, _, _ in configs}
    for r in range(args.rounds):
        order = configs if r % 2 == 0 else configs[::-1]
        for label, workers, dask_workers in order:
            run = _one(url, pgdata, workers, dask_workers)
            digest = rollup_digest(conn)
            reference = reference or digest
            same[label] = same[label] and digest == reference
            runs[label].append(run)
            print(f"round {r + 1}, {label}: {run.figures()}; "
                  f"rows equal to the first run: {digest == reference}", flush=True)  # fmt: skip
            for line in run.log.splitlines():
                if line.startswith(("analyze phases", "analyze: indexes built")):
                    print(f"  {line}", flush=True)
    _table(configs, runs, same)
    total = sum(n for n, _ in reference.values()) if reference else 0
    print(f"\nrollup rows: {total:,} ({len(reference or {})} tables); load average "
          f"after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")  # fmt: skip
    _arithmetic(runs[configs[0][0]], args)


def _arithmetic(one: list[Any], args: argparse.Namespace) -> None:
    """The CPU of 200 buildings of the full mix (10 x the 20 buildings of
    :data:`SIZES` at desk scale 1), scaled linearly (desks x days) from the single-process runs' median CPU (analyze + PostgreSQL)."""
    cpu = float(np.median([r.cpu for r in one]))
    server = float(np.median([r.server_cpu for r in one]))
    scale = (
        10 * _desks(portfolio(20)) / _desks(portfolio(args.buildings, args.desk_scale))
    )
    year = 52 / args.weeks
    print(
        f"200 buildings of the full mix ({scale:.1f}x these desks): one process's CPU "
        f"{cpu:.1f} s analyze + {server:.1f} s PostgreSQL per {args.weeks} weeks "
        f"-> {scale * (cpu + server) / 60:.1f} min per {args.weeks} weeks, "
        f"{scale * year * (cpu + server) / 3600:.2f} h per year (52 weeks), of "
        f"which PostgreSQL {scale * year * server / 3600:.2f} h"
    )


def _table(
    configs: list[tuple[str, int | None, int | None]],
    runs: dict[str, list[Any]],
    same: dict[str, bool],
) -> None:
    """Per configuration: wall and CPU (analyze process with its local
    workers; PostgreSQL) per round, the speed-up over the first configuration
    (one process), overall (medians) and per round, and the loads."""
    base = [r.wall for r in runs[configs[0][0]]]
    print("\n| configuration | wall [s] per round | speed-up (median) | speed-up per"
          " round | CPU analyze [s] per round | CPU PostgreSQL [s] per round"
          " | load average before each | same rows |")  # fmt: skip
    print("|---|---|---:|---|---|---|---|---|")
    for label, _, _ in configs:
        w = [r.wall for r in runs[label]]
        per_round = " / ".join(f"{b / x:.2f}x" for b, x in zip(base, w, strict=True))
        print(
            f"| {label} | {' / '.join(f'{x:.1f}' for x in w)}"
            f" | {float(np.median(base)) / float(np.median(w)):.2f}x | {per_round}"
            f" | {' / '.join(f'{r.cpu:.1f}' for r in runs[label])}"
            f" | {' / '.join(f'{r.server_cpu:.1f}' for r in runs[label])}"
            f" | {'; '.join(r.loadavg for r in runs[label])}"
            f" | {'yes' if same[label] else 'NO'} |"
        )


if __name__ == "__main__":
    sys.exit(main())
