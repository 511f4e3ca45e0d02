"""Benchmark of ``occupancy analyze``: one year of a 2,000-desk building.

Generates desk and room events directly as DataFrames with numpy (nothing is
published or stored as raw events), then times:

- full recompute: :func:`analytics.pipeline.compute_days` over the year in
  14-day chunks (each with one day of context either side, as ``analyze``
  does) plus writing every rollup with COPY into a private PostgreSQL;
- incremental: one new day (compute + write);
- peak memory (max RSS of this process).

By default reading the raw events back from the database is not included
(the events are generated in memory per chunk). ``--from-db`` loads the year
into a private TimescaleDB instead (timed apart) and times the real
``occupancy analyze --full`` and one incremental new day as subprocesses,
including the read, with their peak RSS and the CPU of the command and of
PostgreSQL. ``--db-dir DIR`` keeps the loaded year in DIR and reuses it on the
next run (generation and load skipped). Event generation time is reported
apart.

    .venv/bin/python benchmarks/analytics.py [--desks 2000] [--days 365] [--no-db | --from-db]
    .venv/bin/python benchmarks/analytics.py --from-db --db-dir /tmp/bench-year-db [--no-read-check]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# This file is called analytics.py: keep its folder from shadowing the package.
sys.path[:] = [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

from analytics.calendar import Calendar, local_days_utc_range  # noqa: E402
from analytics.pipeline import AnalyzeParams, compute_days, day_runs  # noqa: E402

TZ = "Europe/Amsterdam"
DEPARTMENTS = [
    "finance",
    "hr",
    "it",
    "marketing",
    "sales",
    "legal",
    "operations",
    "rnd",
]
HEARTBEAT_S = 900  # 15-min heartbeats (timeout 20 min) keep the volume at ~30 M/year


def make_spaces(desks: int, floors: int = 10, rooms_per_floor: int = 6) -> pd.DataFrame:
    per_floor = desks // floors
    rows: list[tuple[str, str, int, str, str, str | None, str]] = []
    for f in range(floors):
        for i in range(per_floor):
            dept = DEPARTMENTS[(f * 2 + (i * 2) // per_floor) % len(DEPARTMENTS)]
            zone = f"f{f}-{dept}"
            rows.append(
                (f"f{f}-d{i:04d}", "desk", 1, zone, "neighbourhood", dept, f"f{f}")
            )
        # A department-neutral lounge per floor (shared zone, one phone booth):
        # where the badge sightings of the year meet across departments.
        rows.append(
            (
                f"f{f}-lounge-p0",
                "phone_booth",
                1,
                f"f{f}-lounge",
                "shared",
                None,
                f"f{f}",
            )
        )
        for r in range(rooms_per_floor):
            rows.append(
                (
                    f"f{f}-r{r:02d}",
                    "meeting_room",
                    (4, 6, 8, 12, 4, 6)[r],
                    f"f{f}-meet",
                    "meeting",
                    None,
                    f"f{f}",
                )
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            "space_id",
            "kind",
            "capacity",
            "zone_id",
            "zone_kind",
            "department_id",
            "floor_id",
        ],
    )
    frame["building_id"] = "b1"
    frame["site_id"] = "hq"
    return frame


def generate(
    spaces: pd.DataFrame, first: dt.date, last: dt.date, seed: int
) -> pd.DataFrame:
    """Events of local days first..last: desk presence changes and heartbeats,
    room counts every 5 min during meetings. Vectorized, no loops over events."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(first, last, freq="D")
    days = days[days.weekday < 5]
    if len(days) == 0:
        return pd.DataFrame(columns=["ts", "space_id", "kind", "value"])
    midnight = days.tz_localize(TZ).tz_convert("UTC").asi8 // 10**9  # epoch s per day
    desks = spaces.loc[spaces["kind"] == "desk", "space_id"].to_numpy()
    n_d, n_days = len(desks), len(days)
    # Desk-days present.
    present = rng.random((n_days, n_d)) < 0.55
    di, si = np.nonzero(present)
    base = midnight[di].astype(float)
    arr = base + np.clip(rng.normal(8.75, 0.6, len(di)), 7.0, 11.0) * 3600
    leave = arr + np.clip(rng.normal(8.4, 0.75, len(di)), 3.0, 11.0) * 3600
    lunch0 = base + rng.normal(12.4, 0.33, len(di)) * 3600
    lunch1 = lunch0 + rng.uniform(20, 45, len(di)) * 60
    brk0 = arr + rng.uniform(0.1, 0.8, len(di)) * (leave - arr)
    brk1 = brk0 + rng.uniform(3, 12, len(di)) * 60
    t = np.concatenate([arr, lunch0, lunch1, brk0, brk1, leave])
    v = np.concatenate(
        [
            np.ones_like(arr),
            np.zeros_like(arr),
            np.ones_like(arr),
            np.zeros_like(arr),
            np.ones_like(arr),
            np.zeros_like(arr),
        ]
    )
    sp = np.tile(si, 6)
    # Heartbeats 07:00-20:00 for every desk and day, with the current state.
    hb_off = np.arange(7 * 3600, 20 * 3600, HEARTBEAT_S, dtype=float)
    hb_t = (midnight[:, None, None].astype(float) + hb_off[None, None, :]).repeat(
        n_d, axis=1
    )  # days x desks x k
    state = np.zeros(hb_t.shape, dtype=bool)
    idx = (di, si)
    tt = hb_t[idx]  # present desk-days x k
    occ = (tt >= arr[:, None]) & (tt < leave[:, None])
    occ &= ~((tt >= lunch0[:, None]) & (tt < lunch1[:, None]))
    occ &= ~((tt >= brk0[:, None]) & (tt < brk1[:, None]))
    state[idx] = occ
    hb_sp = np.broadcast_to(np.arange(n_d)[None, :, None], hb_t.shape)
    desk_t = np.concatenate([t, hb_t.ravel()])
    desk_v = np.concatenate([v, state.ravel().astype(float)])
    desk_sp = np.concatenate([sp, hb_sp.ravel()])
    desk_kind = np.concatenate(
        [np.zeros(len(t), dtype=np.int8), np.ones(hb_t.size, dtype=np.int8)]
    )
    # Rooms: 4 one-hour meetings per room-day, counts every 5 min, 0 at the end.
    rooms = spaces[spaces["kind"] != "desk"]
    n_r = len(rooms)
    starts = midnight[:, None, None] + rng.integers(8, 17, (n_days, n_r, 4)) * 3600.0
    people = rng.integers(
        1, rooms["capacity"].to_numpy()[None, :, None] + 1, (n_days, n_r, 4)
    ).astype(float)
    k = np.arange(12) * 300.0
    rt = (starts[..., None] + k).ravel()
    rv = np.broadcast_to(people[..., None], (*starts.shape, 12)).ravel()
    rsp = np.broadcast_to(
        np.arange(n_r)[None, :, None, None], (*starts.shape, 12)
    ).ravel()
    end_t = (starts + 3600.0).ravel()
    end_sp = np.broadcast_to(np.arange(n_r)[None, :, None], starts.shape).ravel()
    space_ids = np.concatenate([desks, rooms["space_id"].to_numpy()])
    all_sp = np.concatenate([desk_sp, rsp + n_d, end_sp + n_d])
    all_t = np.concatenate([desk_t, rt, end_t])
    all_v = np.concatenate([desk_v, rv, np.zeros(len(end_t))])
    kinds = np.array(["presence", "heartbeat", "count"], dtype=object)
    all_k = np.concatenate([desk_kind, np.full(len(rt) + len(end_t), 2, dtype=np.int8)])
    return pd.DataFrame(
        {
            "ts": pd.to_datetime((all_t * 1e9).astype(np.int64), utc=True),
            "space_id": space_ids.astype(object)[all_sp],
            "kind": kinds[all_k],
            "value": all_v,
        }
    )


def _empty_sightings() -> tuple[pd.DataFrame, pd.DataFrame]:
    s = pd.DataFrame(
        {
            "ts": pd.Series(dtype="datetime64[ns, UTC]"),
            "zone_id": pd.Series(dtype=object),
            "badge": pd.Series(dtype=object),
        }
    )
    return s, pd.DataFrame(
        {"badge": pd.Series(dtype=object), "department_id": pd.Series(dtype=object)}
    )


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--desks", type=int, default=2000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--start", default="2025-01-01")
    ap.add_argument(
        "--no-db", action="store_true", help="Compute only; do not write rollups."
    )
    ap.add_argument(
        "--from-db",
        action="store_true",
        help=(
            "Load the generated year into a private TimescaleDB (COPY, timed "
            "apart) and time `occupancy analyze --full` and one incremental new "
            "day as real subprocesses, reading the events from the database."
        ),
    )
    ap.add_argument(
        "--db-dir",
        default=None,
        help=(
            "With --from-db: keep the loaded year's PostgreSQL in this directory "
            "and reuse it on the next run (generation and load skipped)."
        ),
    )
    ap.add_argument(
        "--no-read-check",
        action="store_true",
        help="With --from-db: skip timing the event read path alone.",
    )
    ap.add_argument(
        "--coloc-reads",
        action="store_true",
        help=(
            "Dashboard cold reads instead: --days (default here 28) of BLE badge "
            "sightings of the example building into a private TimescaleDB, "
            "analyze, then time read_colocation / read_diversity against the "
            "bucket-presence path they replaced (same frames asserted)."
        ),
    )
    ap.add_argument(
        "--incremental-only",
        action="store_true",
        help=(
            "With --from-db --db-dir DIR (a year kept by an earlier run): time "
            "only the incremental new day, --repeat times: its events deleted "
            "and copied anew (received after the watermark), then `occupancy "
            "analyze`. Uses the server already running on DIR if there is one."
        ),
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="With --incremental-only: runs."
    )
    args = ap.parse_args()
    if args.incremental_only:
        return main_incremental(args)
    if args.coloc_reads:
        return main_coloc_reads(args)
    if args.from_db:
        return main_from_db(args)
    first = dt.date.fromisoformat(args.start)
    last = first + dt.timedelta(days=args.days - 1)
    spaces = make_spaces(args.desks)
    zones = (
        spaces[["zone_id", "zone_kind"]]
        .drop_duplicates()
        .rename(columns={"zone_kind": "kind"})
    )
    cal = Calendar(timezone=TZ, bucket_s=900)
    params = AnalyzeParams()
    sightings, register = _empty_sightings()
    conn = None
    server = None
    if not args.no_db:
        from app.services import PostgresServer, free_port
        from occupancy.db import connect, migrate

        tmp = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
        tmp.chmod(0o755)
        server = PostgresServer(tmp / "pg", free_port(), fsync=False)
        server.start()
        conn = connect(server.url())
        migrate(conn)
    from analytics import store

    gen_s = comp_s = write_s = 0.0
    n_events = 0
    rows = 0
    runs = day_runs([first + dt.timedelta(days=i) for i in range(args.days)])
    print(
        f"{args.desks} desks + {int((spaces['kind'] != 'desk').sum())} rooms, {first}..{last}, {len(runs)} chunks",
        file=sys.stderr,
    )
    try:
        for i, (a, b) in enumerate(runs, 1):
            t0 = time.perf_counter()
            events = generate(
                spaces, a - dt.timedelta(days=1), b + dt.timedelta(days=1), seed=i
            )
            t1 = time.perf_counter()
            frames = compute_days(
                events, sightings, register, spaces, zones, cal, params, a, b
            )
            t2 = time.perf_counter()
            if conn is not None:
                written = store.write_rollups(conn, a, b, frames)
                rows += sum(written.values())
            t3 = time.perf_counter()
            gen_s += t1 - t0
            comp_s += t2 - t1
            write_s += t3 - t2
            n_events += len(events)
            print(
                f"  chunk {i}/{len(runs)} {a}..{b}: {len(events):,} events, compute {t2 - t1:.2f} s, write {t3 - t2:.2f} s, rss {maxrss_mb():.0f} MB",
                file=sys.stderr,
            )
            del events, frames
        full_s = comp_s + write_s
        # Incremental: one new day (a Wednesday), with its day of context either side.
        day = last - dt.timedelta(days=(last.weekday() - 2) % 7)
        events = generate(
            spaces, day - dt.timedelta(days=1), day + dt.timedelta(days=1), seed=999
        )
        t0 = time.perf_counter()
        frames = compute_days(
            events, sightings, register, spaces, zones, cal, params, day, day
        )
        if conn is not None:
            store.write_rollups(conn, day, day, frames)
        inc_s = time.perf_counter() - t0
    finally:
        if conn is not None:
            conn.close()
        if server is not None:
            server.stop(mode="immediate")
    start, end = local_days_utc_range(cal, first, last)
    print(
        f"events generated (excluded from the timings): {n_events:,} in {gen_s:.1f} s ({start:%Y-%m-%d}..{end:%Y-%m-%d} UTC)"
    )
    print(
        f"full recompute: {full_s:.1f} s (compute {comp_s:.1f} s + rollup COPY {write_s:.1f} s, {rows:,} rows)"
    )
    print(
        f"incremental, one new day ({day}): {inc_s:.2f} s ({len(events):,} events incl. context)"
    )
    print(f"peak memory (max RSS): {maxrss_mb():.0f} MB")
    return 0


# ----------------------------------------------------------------- --from-db mode
def _load_metadata(conn: Any, spaces: pd.DataFrame, site: str) -> None:
    from analytics.store import copy_frame

    zones = spaces.drop_duplicates("zone_id")
    floors = spaces["floor_id"].drop_duplicates()
    depts = sorted(set(spaces["department_id"].dropna()))
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sites (site_id, name, timezone) VALUES (%s, %s, %s)",
            (site, "bench", TZ),
        )
        cur.execute(
            "INSERT INTO buildings (building_id, site_id, name) VALUES ('b1', %s, 'b1')",
            (site,),
        )
        copy_frame(
            cur,
            "departments",
            pd.DataFrame(
                {"department_id": depts, "site_id": site, "name": depts, "headcount": 0}
            ),
        )
        copy_frame(
            cur,
            "floors",
            pd.DataFrame(
                {
                    "floor_id": floors.to_numpy(),
                    "building_id": "b1",
                    "level": np.arange(len(floors)),
                    "name": floors.to_numpy(),
                    "width_m": 100.0,
                    "height_m": 100.0,
                }
            ),
        )
        cap = spaces.groupby("zone_id")["capacity"].sum()
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
                    "x": 0.0,
                    "y": 0.0,
                    "width": 1.0,
                    "height": 1.0,
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
                    "x": 0.0,
                    "y": 0.0,
                    "width": 1.0,
                    "height": 1.0,
                }
            ),
        )


def _copy_events(conn: Any, events: pd.DataFrame) -> int:
    """COPY generated events into sensor_events (device id = space id)."""
    from analytics.store import copy_frame

    ev = events.drop_duplicates(["space_id", "kind", "ts"])
    frame = pd.DataFrame(
        {
            "ts": ev["ts"].astype("datetime64[us, UTC]").to_numpy(),
            "device_id": ev["space_id"].to_numpy(),
            "space_id": ev["space_id"].to_numpy(),
            "kind": ev["kind"].to_numpy(),
            "value": ev["value"].to_numpy(),
        }
    )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    with conn, conn.cursor() as cur:
        return copy_frame(cur, "sensor_events", frame)


# Secondary indexes of sensor_events dropped during the bulk load and built
# once afterwards (maintaining them row by row made the load ~4x slower).
_LOAD_INDEXES = {
    "sensor_events_device_id_kind_seq_ts_key": (
        "ALTER TABLE sensor_events ADD CONSTRAINT"
        " sensor_events_device_id_kind_seq_ts_key UNIQUE (device_id, kind, seq, ts)"
    ),
    "sensor_events_space_ts": (
        "CREATE INDEX sensor_events_space_ts ON sensor_events (space_id, ts)"
    ),
    "sensor_events_received_at": (
        "CREATE INDEX sensor_events_received_at ON sensor_events (received_at)"
    ),
}


def _load_year(
    conn: Any, spaces: pd.DataFrame, runs: Sequence[tuple[dt.date, dt.date]]
) -> tuple[int, float, float, float]:
    """Generate and COPY every run's events, secondary indexes dropped during
    the load and rebuilt after; the next run is generated while the current
    one is copied (psycopg2 releases the GIL during COPY). Returns (events,
    generation s, COPY s, index build s)."""
    from concurrent.futures import ThreadPoolExecutor

    with conn, conn.cursor() as cur:
        cur.execute(
            "ALTER TABLE sensor_events"
            " DROP CONSTRAINT IF EXISTS sensor_events_device_id_kind_seq_ts_key"
        )
        cur.execute("DROP INDEX IF EXISTS sensor_events_space_ts")
        cur.execute("DROP INDEX IF EXISTS sensor_events_received_at")
    gen_s = 0.0
    loaded = 0
    t_load = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for i, (a, b) in enumerate(runs, 1):
            t0 = time.perf_counter()
            events = generate(spaces, a, b, seed=i)
            gen_s += time.perf_counter() - t0
            if pending is not None:
                loaded += pending.result()
            pending = pool.submit(_copy_events, conn, events)
            print(
                f"  load {i}/{len(runs)} {a}..{b}: {len(events):,} events",
                file=sys.stderr,
            )
            del events
        if pending is not None:
            loaded += pending.result()
    copy_s = time.perf_counter() - t_load - gen_s
    t0 = time.perf_counter()
    with conn, conn.cursor() as cur:
        for stmt in _LOAD_INDEXES.values():
            cur.execute(stmt)
        cur.execute("ANALYZE sensor_events")
    return loaded, gen_s, copy_s, time.perf_counter() - t0


def badge_departments(spaces: pd.DataFrame) -> pd.DataFrame:
    """The badge holders' departments: ~90 % of each department's desks,
    in on 2.5 days a week (the input of :func:`badge_sightings`)."""
    desks = spaces[spaces["kind"] == "desk"]
    heads = (desks.groupby("department_id").size() * 0.9).round().astype(int)
    return pd.DataFrame(
        {
            "department_id": heads.index,
            "headcount": heads.to_numpy(),
            "office_days_per_week": 2.5,
        }
    )


def _load_badges(
    conn: Any, spaces: pd.DataFrame, runs: Sequence[tuple[dt.date, dt.date]]
) -> tuple[int, int]:
    """BLE badge sightings of the year (badge_sightings, per run) and the
    badge register: ~90 % of the desks' headcount carry a badge, in on 2.5
    days a week, in their neighbourhood, meeting zones and the floors'
    lounges. Returns (sightings, badge holders)."""
    import io

    zones = (
        spaces.drop_duplicates("zone_id")
        .drop(columns="kind")
        .rename(columns={"zone_kind": "kind"})
    )
    depts = badge_departments(spaces)
    total = 0
    register = None
    with conn, conn.cursor() as cur:
        for i, (a, b) in enumerate(runs, 1):
            sightings, register = badge_sightings(
                zones, depts, a, (b - a).days + 1, seed=1000 + i
            )
            sightings["seq"] += total
            buf = io.StringIO()
            sightings.to_csv(buf, index=False, header=False)
            buf.seek(0)
            cols = ", ".join(sightings.columns)
            cur.copy_expert(f"COPY badge_sightings ({cols}) FROM STDIN WITH CSV", buf)
            total += len(sightings)
        if register is not None:
            buf = io.StringIO()
            register.to_csv(buf, index=False, header=False)
            buf.seek(0)
            cur.copy_expert(
                "COPY badge_departments (badge, department_id) FROM STDIN WITH CSV",
                buf,
            )
    return total, 0 if register is None else len(register)


#: The week cells of released co-location (migration 0207), when migrated.
_WEEK_TABLES = ("analytics_coloc_week", "analytics_coloc_week_bits")


def _rollup_rows(conn: Any) -> dict[str, int]:
    """Rows of every rollup table (the benchmark fills each of them) and of
    the co-location week cells."""
    from psycopg2 import sql

    from analytics.db_io import ROLLUP_TABLES

    out = {}
    with conn.cursor() as cur:
        for table in (*ROLLUP_TABLES, *_WEEK_TABLES):
            cur.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            )
            row = cur.fetchone()
            out[table] = int(row[0]) if row else 0
    conn.commit()
    return out


def _server_cpu_s(pgdata: Path) -> float:
    """CPU seconds [s] used so far by a PostgreSQL cluster: the postmaster's own
    and its reaped children's (ended backends), plus its live children."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    pm = int((pgdata / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(proc.name), int(fields[1])
        if pid == pm:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif ppid == pm:
            total += int(fields[11]) + int(fields[12])
    return total / tick


@dataclass
class Run:
    """One ``occupancy`` subprocess: wall [s], its CPU (user + sys) [s], the
    database server's CPU meanwhile [s], its peak RSS [MB], its output."""

    wall: float
    cpu: float
    server_cpu: float
    rss_mb: float
    log: str
    loadavg: str

    def figures(self) -> str:
        return (
            f"{self.wall:.1f} s wall, peak RSS {self.rss_mb:.0f} MB; CPU: analyze "
            f"process {self.cpu:.1f} s + PostgreSQL {self.server_cpu:.1f} s "
            f"(≥ {(self.cpu + self.server_cpu) / 2:.1f} s wall on 2 idle cores); "
            f"load average before {self.loadavg}"
        )


def _occupancy(url: str, pgdata: Path, *args: str) -> Run:
    """Run ``occupancy ARGS`` as a real subprocess and measure it."""
    import os
    import subprocess

    exe = Path(sys.executable).with_name("occupancy")
    env = {**os.environ, "OCCUPANCY_DATABASE_URL": url, "OCCUPANCY_SITE": "hq"}
    # The image's package has its bytecode compiled by pip at install; this
    # editable checkout gets it on the first run (else every run compiles
    # the project's ~60 modules again, ~0.1 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryFile("w+") as log:
        server0 = _server_cpu_s(pgdata)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [str(exe), *args], env=env, stdout=log, stderr=log, text=True
        )
        # wait4 gives this child's own resource usage (CPU, peak RSS).
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        time.sleep(0.5)  # let the postmaster reap the ended backends
        server = _server_cpu_s(pgdata) - server0
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    if proc.returncode != 0:
        raise RuntimeError(f"occupancy {' '.join(args)} failed: {text[-2000:]}")
    return Run(
        wall,
        usage.ru_utime + usage.ru_stime,
        server,
        usage.ru_maxrss / 1024.0,
        text,
        loadavg,
    )


_MARKER = "bench-year.txt"


def main_from_db(args: argparse.Namespace) -> int:
    """Load the year into a private TimescaleDB (or reuse one kept in
    ``--db-dir``), then time the real commands."""
    import shutil

    from psycopg2 import sql

    from analytics import store
    from analytics.db_io import ROLLUP_TABLES
    from app.services import PostgresServer, free_port
    from occupancy.db import connect, migrate

    first = dt.date.fromisoformat(args.start)
    last = first + dt.timedelta(days=args.days - 1)
    # The new day of the incremental run: the last Wednesday in range.
    new_day = last - dt.timedelta(days=(last.weekday() - 2) % 7)
    spaces = make_spaces(args.desks)
    cal = Calendar(timezone=TZ, bucket_s=900)
    keep = args.db_dir is not None
    base = (
        Path(args.db_dir)
        if keep
        else Path(tempfile.mkdtemp(prefix="bench-analytics-db-"))
    )
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    what = (
        f"desks={args.desks} start={first} days={args.days} seed=per-chunk v2 badges\n"
    )
    marker = base / _MARKER
    reuse = keep and marker.exists() and marker.read_text() == what
    server = PostgresServer(base / "pg", free_port(), fsync=False)
    server.start()
    url = server.url()
    gen_s = load_s = index_s = 0.0
    loaded = 0
    try:
        if not reuse and (base / "pg" / "pgdata" / "PG_VERSION").exists():
            # A half-loaded or different year: start from an empty database.
            marker.unlink(missing_ok=True)
            admin = connect(server.url("postgres"))
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {}").format(
                        sql.Identifier(server.database)
                    )
                )
            admin.close()
            server.create_database(server.database, exist_ok=True)
        conn = connect(url)
        migrate(conn)
        new_start, new_end = local_days_utc_range(cal, new_day, new_day)
        if reuse:
            print(
                f"reusing the year loaded in {base} (skipping generation and load)",
                file=sys.stderr,
            )
            with conn, conn.cursor() as cur:
                # The previous run's incremental day, and every rollup.
                cur.execute(
                    "DELETE FROM sensor_events WHERE ts >= %s AND ts < %s",
                    (new_start.to_pydatetime(), new_end.to_pydatetime()),
                )
                for table in (*ROLLUP_TABLES, *_WEEK_TABLES, "analytics_watermark"):
                    cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
        else:
            _load_metadata(conn, spaces, "hq")
            runs = day_runs(
                [
                    first + dt.timedelta(days=i)
                    for i in range(args.days)
                    if first + dt.timedelta(days=i) != new_day
                ]
            )
            loaded, gen_s, load_s, index_s = _load_year(conn, spaces, runs)
            badges_loaded, holders = _load_badges(conn, spaces, runs)
            print(
                f"  badge sightings: {badges_loaded:,} of {holders:,} badge holders",
                file=sys.stderr,
            )
            if keep:
                marker.write_text(what)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.autocommit = False
        # The DB-read path alone: every chunk's events as analyze reads them.
        meta_spaces, meta_zones = store.read_metadata(conn)
        known = sorted(set(meta_spaces["space_id"]) | set(meta_zones["zone_id"]))
        t0 = time.perf_counter()
        read_rows = 0
        chunks = day_runs([first + dt.timedelta(days=i) for i in range(args.days)])
        for a, b in [] if args.no_read_check else chunks:
            start, end = local_days_utc_range(cal, a, b)
            read_rows += len(
                store.read_events(
                    conn,
                    start - dt.timedelta(days=1),
                    end + dt.timedelta(days=1),
                    known=known,
                )
            )
        conn.commit()
        read_s = time.perf_counter() - t0
        full = _occupancy(url, server.pgdata, "analyze", "--full")
        t0 = time.perf_counter()
        new_events = generate(spaces, new_day, new_day, seed=999)
        n_new = _copy_events(conn, new_events)
        new_load_s = time.perf_counter() - t0
        inc = _occupancy(url, server.pgdata, "analyze")
        rows_per_table = _rollup_rows(conn)
        reads = _coloc_read_times(conn, spaces, first, last)
        conn.close()
    finally:
        server.stop(mode="fast")
        if not keep:
            shutil.rmtree(base, ignore_errors=True)  # ~11 GB for the year
    phases = [
        ln
        for ln in full.log.splitlines()
        if ln.startswith(("analyze phases", "analyze: indexes built"))
    ]
    summary = [ln for ln in (full.log + inc.log).splitlines() if " day(s) in " in ln]
    print(
        f"{args.desks} desks + {int((spaces['kind'] != 'desk').sum())} rooms, {first}..{last}"
    )
    if reuse:
        print(f"year database reused from {base} (no generation, no load)")
    else:
        print(
            f"load into TimescaleDB (excluded from the timings): {loaded:,} events, "
            f"COPY {load_s:.1f} s + index build {index_s:.1f} s (generation {gen_s:.1f} s)"
        )
    if not args.no_read_check:
        print(
            f"DB read path alone (store.read_events over all chunks, with context): {read_rows:,} rows in {read_s:.1f} s"
        )
    print(
        "FULL RECOMPUTE: occupancy analyze --full (subprocess, incl. interpreter "
        f"start): {full.figures()}"
    )
    for ln in phases:
        print(f"  {ln.strip()}")
    print("ROWS PER ROLLUP TABLE after the incremental day:")
    for table, n in rows_per_table.items():
        print(f"  {table}: {n:,}")
    print(
        f"INCREMENTAL DAY {new_day}: {n_new:,} events loaded in {new_load_s:.1f} s; "
        "occupancy analyze (subprocess, incl. interpreter start): "
        f"{inc.figures()}"
    )
    for ln in summary:
        print(f"  {ln.strip()}")
    print("COLLABORATION READS over the year (dashboard-independent; cold, warm):")
    for ln in reads:
        print(f"  {ln}")
    return 0


def _running_port(pgdata: Path) -> int | None:
    """The port of the PostgreSQL server running on ``pgdata``, if any
    (postmaster.pid: pid, data dir, start time, port, ...)."""
    import os

    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        os.kill(int(lines[0]), 0)
    except (OSError, ValueError, IndexError):
        return None
    return int(lines[3])


def main_incremental(args: argparse.Namespace) -> int:
    """The incremental new day alone on a year kept in ``--db-dir``: the new
    day's events deleted and copied again (so they arrive after the
    watermark; the day's rollups of the previous run stay and are replaced,
    as in a run every few minutes), then ``occupancy analyze``, --repeat
    times. Prints the figures of each run."""
    from app.services import PostgresServer, free_port
    from occupancy.db import connect, migrate

    if args.db_dir is None:
        raise SystemExit("--incremental-only needs --db-dir (a kept year)")
    base = Path(args.db_dir)
    first = dt.date.fromisoformat(args.start)
    last = first + dt.timedelta(days=args.days - 1)
    new_day = last - dt.timedelta(days=(last.weekday() - 2) % 7)
    if not (base / _MARKER).exists():
        raise SystemExit(f"no kept year in {base} (run --from-db --db-dir first)")
    server = PostgresServer(base / "pg", free_port(), fsync=False)
    port = _running_port(server.pgdata)
    started = port is None
    if port is None:
        server.start()
    else:
        server.port = port
    url = server.url()
    spaces = make_spaces(args.desks)
    cal = Calendar(timezone=TZ, bucket_s=900)
    lo, hi = (t.to_pydatetime() for t in local_days_utc_range(cal, new_day, new_day))
    new_events = generate(spaces, new_day, new_day, seed=999)
    try:
        conn = connect(url)
        migrate(conn)
        for i in range(1, args.repeat + 1):
            with conn, conn.cursor() as cur:
                cur.execute(
                    "DELETE FROM sensor_events WHERE ts >= %s AND ts < %s", (lo, hi)
                )
            n_new = _copy_events(conn, new_events)
            run = _occupancy(url, server.pgdata, "analyze")
            print(
                f"INCREMENTAL DAY {new_day} run {i}/{args.repeat}: {n_new:,} events; "
                f"occupancy analyze (subprocess, incl. interpreter start): "
                f"{run.figures()}"
            )
            for ln in run.log.splitlines():
                if " day(s) in " in ln or ln.startswith("analyze phases"):
                    print(f"  {ln.strip()}")
            sys.stdout.flush()
        conn.close()
    finally:
        if started:
            server.stop(mode="fast")
    return 0


def _coloc_read_times(
    conn: Any, spaces: pd.DataFrame, first: dt.date, last: dt.date
) -> list[str]:
    """Wall time of the Collaboration page's reads over the year (the matrix,
    its weekly trend and the department mix), unfiltered and with a floor or
    a zone filter: each run twice (cold, then warm), with the load."""
    from analytics import store
    from analytics.filters import Filters
    from occupancy.settings import load_settings

    settings = load_settings({"database_url": "postgresql://unused/x"})
    floor = str(spaces["floor_id"].iloc[0])
    zone = str(spaces.loc[spaces["zone_kind"] == "shared", "zone_id"].iloc[0])
    cases = [("none", None), (f"floor={floor}", Filters(floor=floor))]
    cases.append((f"zone={zone}", Filters(zone=zone)))
    readers = {
        "read_colocation": store.read_colocation,
        "read_colocation_trend": store.read_colocation_trend,
        "read_diversity": store.read_diversity,
    }
    out = []
    for label, f in cases:
        for name, fn in readers.items():
            times = []
            for _ in range(2):
                t0 = time.perf_counter()
                frame = fn(conn, first, last, filters=f, settings=settings)
                times.append(time.perf_counter() - t0)
                conn.rollback()
            load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            out.append(
                f"{name} filter {label}: {times[0] * 1000:.0f} ms, "
                f"{times[1] * 1000:.0f} ms ({len(frame)} rows; load {load})"
            )
    return out


def badge_sightings(
    zones: pd.DataFrame, departments: pd.DataFrame, first: dt.date, days: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Vectorized BLE sightings: every badge of a department (headcount) comes
    in on a working day with probability office_days_per_week / 5 (2.5 days a
    week here) and spends
    each 15-min slot 09:00-17:00 in its home neighbourhood (70 %), a meeting
    zone (20 %) or a shared zone (10 %), sighted every 5 min. Returns
    (sightings: ts, device_id, zone_id, badge, rssi, seq; register: badge,
    department_id)."""
    rng = np.random.default_rng(seed)
    dept = departments["department_id"].to_numpy()
    badge_dept = np.repeat(dept, departments["headcount"].to_numpy())
    p_in = np.repeat(
        departments["office_days_per_week"].to_numpy(dtype=float) / 5.0,
        departments["headcount"].to_numpy(),
    )
    nb = len(badge_dept)
    badges = np.array([f"bench{i:05d}" for i in range(nb)])
    day_list = pd.date_range(first, periods=days, freq="D")
    day_list = day_list[day_list.weekday < 5]
    present = rng.random((len(day_list), nb)) < p_in[None, :]
    di, bi = np.nonzero(present)
    slots = 32
    di, bi = np.repeat(di, slots), np.repeat(bi, slots)
    slot = np.tile(np.arange(slots), len(present.nonzero()[0]))
    hoods = zones[zones["kind"] == "neighbourhood"].drop_duplicates("department_id")
    home = hoods.set_index("department_id")["zone_id"]
    meeting = zones.loc[zones["kind"] == "meeting", "zone_id"].to_numpy()
    shared = zones.loc[zones["kind"] == "shared", "zone_id"].to_numpy()
    home_of = home.reindex(badge_dept).fillna(shared[0]).to_numpy()
    u = rng.random(len(slot))
    zone = np.where(
        u < 0.7,
        home_of[bi],
        np.where(
            u < 0.9,
            meeting[rng.integers(0, len(meeting), len(slot))],
            shared[rng.integers(0, len(shared), len(slot))],
        ),
    )
    rep = 3
    local = (
        day_list[np.repeat(di, rep)]
        + pd.to_timedelta(9 * 3600 + np.repeat(slot, rep) * 900, unit="s")
        + pd.to_timedelta(np.tile(np.arange(rep) * 300 + 30, len(slot)), unit="s")
    )
    ts = local.tz_localize(TZ).tz_convert("UTC")
    n = len(ts)
    sightings = pd.DataFrame(
        {
            "ts": ts,
            "device_id": "ble-bench",
            "zone_id": np.repeat(zone, rep),
            "badge": badges[np.repeat(bi, rep)],
            "rssi": -60.0,
            "seq": np.arange(n),
        }
    )
    register = pd.DataFrame({"badge": badges, "department_id": badge_dept})
    return sightings, register


def main_coloc_reads(args: argparse.Namespace) -> int:
    """Cold dashboard reads of co-location and diversity, before and after."""
    import io

    from analytics import store
    from analytics.pipeline import run_analyze
    from analytics.release import released_diversity, released_matrix, released_weeks
    from app.services import PostgresServer, free_port
    from occupancy.building import load_building
    from occupancy.db import connect, migrate, read_frame
    from occupancy.metadata import load_site
    from occupancy.settings import load_settings

    days = args.days if args.days != 365 else 28
    first = dt.date.fromisoformat(args.start)
    last = first + dt.timedelta(days=days - 1)
    tmp = Path(tempfile.mkdtemp(prefix="bench-coloc-db-"))
    tmp.chmod(0o755)
    server = PostgresServer(tmp / "pg", free_port(), fsync=False)
    server.start()
    url = server.url()
    try:
        conn = connect(url)
        migrate(conn)
        root = Path(__file__).resolve().parent.parent
        load_site(conn, load_building(root / "examples" / "office.yaml"))
        zones = read_frame(conn, "SELECT zone_id, kind, department_id FROM zones")
        depts = read_frame(
            conn,
            "SELECT department_id, headcount, 2.5 AS office_days_per_week"
            " FROM departments ORDER BY department_id",
        )
        sightings, register = badge_sightings(zones, depts, first, days, seed=3)
        with conn, conn.cursor() as cur:
            for table, frame in (
                ("badge_departments", register),
                ("badge_sightings", sightings),
            ):
                buf = io.StringIO()
                frame.to_csv(buf, index=False, header=False)
                buf.seek(0)
                cols = ", ".join(frame.columns)
                cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH CSV", buf)
        settings = load_settings({"database_url": url})
        t0 = time.perf_counter()
        run_analyze(conn, settings, full=True, progress=lambda m: None)
        analyze_s = time.perf_counter() - t0
        counts = {
            t: read_frame(conn, f"SELECT count(*) AS n FROM {t}")["n"].iloc[0]
            for t in (
                "analytics_dept_presence",
                "analytics_coloc_pairs",
                "analytics_coloc_bits",
            )
        }
        bm, k = float(settings.bucket_minutes), int(settings.k_anonymity)

        def timed(fn: Any, reps: int = 3) -> tuple[float, Any]:
            best, out = float("inf"), None
            for _ in range(reps):
                t = time.perf_counter()
                out = fn()
                best = min(best, time.perf_counter() - t)
            return best * 1000.0, out

        # Badge-derived figures cover the released (whole, ended) weeks the
        # range touches: the in-memory path reads exactly those days.
        weeks = released_weeks(first, last, dt.date.today())
        lo, hi = weeks[0], weeks[-1] + dt.timedelta(days=6)
        old_m_ms, old_m = timed(
            lambda: released_matrix(
                store.read_dept_presence(conn, lo, hi), bm=bm, k=k, by_source=True
            ),
            1,
        )
        old_d_ms, old_d = timed(
            lambda: released_diversity(
                store.read_dept_presence(conn, lo, hi), bm=bm, k=k
            ),
            1,
        )
        new_m_ms, new_m = timed(
            lambda: store.read_colocation(conn, first, last, settings=settings)
        )
        new_d_ms, new_d = timed(
            lambda: store.read_diversity(conn, first, last, settings=settings)
        )
        pd.testing.assert_frame_equal(new_m, old_m)
        pd.testing.assert_frame_equal(new_d, old_d)
        # The released read from the daily tables (before the week cells
        # of migration 0207): the week cells removed, same frame.
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM analytics_coloc_week")
            row = cur.fetchone()
            cells = int(row[0]) if row else 0
            cur.execute("TRUNCATE analytics_coloc_week")
        daily_ms, daily_m = timed(
            lambda: store.read_colocation(conn, first, last, settings=settings)
        )
        pd.testing.assert_frame_equal(new_m, daily_m)
        conn.close()
    finally:
        server.stop(mode="immediate")
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"example building, {first}..{last}: {len(sightings):,} sightings of "
        f"{len(register)} badges; analyze --full {analyze_s:.1f} s; rows {counts}"
    )
    print(
        f"read_colocation: bucket-presence path {old_m_ms:.0f} ms -> daily counts "
        f"{new_m_ms:.0f} ms (best of 3); {int((~new_m['suppressed']).sum())} of "
        f"{len(new_m)} cells shown; frames identical"
    )
    print(
        f"read_colocation (released weeks): computed from the daily tables "
        f"{daily_ms:.0f} ms -> precomputed week cells ({cells} stored) "
        f"{new_m_ms:.0f} ms (best of 3, same frame; ratio {daily_ms / new_m_ms:.1f}x); "
        f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
    )
    print(
        f"read_diversity: bucket-presence path {old_d_ms:.0f} ms -> daily counts "
        f"{new_d_ms:.0f} ms (best of 3); frames identical"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
