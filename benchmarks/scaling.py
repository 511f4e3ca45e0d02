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
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
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


def portfolio(n: int) -> pd.DataFrame:
    """The spaces of ``n`` buildings (ids prefixed ``bNN-``), sizes cycling
    through :data:`SIZES`."""
    parts = []
    for b in range(n):
        desks = SIZES[b % len(SIZES)]
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
    ap.add_argument("--start", default="2026-01-05")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    from app.services import PostgresServer, free_port
    from occupancy.db import connect, migrate

    first = dt.date.fromisoformat(args.start)
    last = first + dt.timedelta(days=7 * args.weeks - 1)
    spaces = portfolio(args.buildings)
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
            f"{int((spaces['kind'] == 'desk').sum())} desks, "
            f"{len(spaces)} spaces, {first}..{last}: {events:,} events, "
            f"{sightings:,} badge sightings of {holders} badge holders "
            f"(loaded in {time.perf_counter() - t0:.0f} s)"
        )
        _measure(conn, url, base / "pg" / "pgdata", args)
        conn.close()
    finally:
        server.stop()
    return 0


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _measure(conn: Any, url: str, pgdata: Path, args: argparse.Namespace) -> None:
    """Every configuration once, in order, then the table."""
    configs: list[tuple[str, list[str], Any]] = [
        (f"{n} local process(es)", ["--workers", str(n)], None)
        for n in (int(w) for w in args.workers.split(","))
    ]
    if not args.no_dask:
        configs.append(("Dask LocalCluster, 2 worker processes", [], 2))
    reference = None
    rows = []
    for label, options, dask_workers in configs:
        extra = options
        cluster = None
        if dask_workers:
            from distributed import LocalCluster

            untyped: Any = LocalCluster  # distributed has no type hints
            cluster = untyped(
                n_workers=dask_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            extra = ["--dask-scheduler", cluster.scheduler_address]
        try:
            run = bench._occupancy(url, pgdata, "analyze", "--full", *extra)
        finally:
            if cluster is not None:
                cluster.close()
        digest = rollup_digest(conn)
        reference = reference or digest
        same = "yes" if digest == reference else "NO"
        rows.append((label, run, same))
        print(f"{label}: {run.figures()}; rows equal to 1 process: {same}", flush=True)
        for line in run.log.splitlines():
            if line.startswith(("analyze phases", "analyze: indexes built")):
                print(f"  {line}", flush=True)
    one = rows[0][1].wall
    print("\n| configuration | wall [s] | speed-up | load average before | same rows |")
    print("|---|---:|---:|---|---|")
    for label, run, same in rows:
        print(
            f"| {label} | {run.wall:.1f} | {one / run.wall:.2f}x | {run.loadavg} | {same} |"
        )
    total = sum(n for n, _ in reference.values()) if reference else 0
    print(f"\nrollup rows: {total:,}; {np.round(one, 1)} s for one process")


if __name__ == "__main__":
    sys.exit(main())
