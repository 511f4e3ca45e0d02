"""Benchmark of ``occupancy analyze``: one year of a 2,000-desk building.

Generates desk and room events directly as DataFrames with numpy (nothing is
published or stored as raw events), then times:

- full recompute: :func:`analytics.pipeline.compute_days` over the year in
  14-day chunks (each with one day of context either side, as ``analyze``
  does) plus writing every rollup with COPY into a private PostgreSQL;
- incremental: one new day (compute + write);
- peak memory (max RSS of this process).

Reading the raw events back from the database is not included (the events
are generated in memory per chunk). Event generation time is reported apart.

    .venv/bin/python benchmarks/analytics.py [--desks 2000] [--days 365] [--no-db]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

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
    rows = []
    for f in range(floors):
        for i in range(per_floor):
            dept = DEPARTMENTS[(f * 2 + (i * 2) // per_floor) % len(DEPARTMENTS)]
            zone = f"f{f}-{dept}"
            rows.append(
                (f"f{f}-d{i:04d}", "desk", 1, zone, "neighbourhood", dept, f"f{f}")
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
            "space_id": pd.Categorical.from_codes(all_sp, categories=space_ids).astype(
                object
            ),
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
    args = ap.parse_args()
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
        from occupancy.db import connect, migrate
        from occupancy.services import PostgresServer, free_port

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


if __name__ == "__main__":
    sys.exit(main())
