"""Fill a database with rollups for the Plan page from a simulated period
with every demand effect on (benchmarks/forecast.py's scenario): the hourly
level aggregates (from the true head counts) and the daily co-location
tables (from the true stays, through analytics.colocation.colocation_daily:
badge holders only, their person ids as pseudonyms). Sensors, the broker and
the ingester are not involved: a quick way to a long history for screenshots
and trying the plan commands; `occupancy demo` is the real pipeline.

    .venv/bin/python scripts/plan_demo_db.py --database-url URL [--weeks 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import coloc_bits  # noqa: E402
from analytics.colocation import colocation_daily, source_of_zone_kind  # noqa: E402
from analytics.patterns import LEVEL_HOURLY_COLUMNS  # noqa: E402
from analytics.plan_truth import level_hourly_from_counts, level_hourly_peaks  # noqa: E402
from benchmarks.forecast import effects_scenario, spaces_of  # noqa: E402
from occupancy.building import load_building  # noqa: E402
from occupancy.db import connect, copy_rows, migrate, read_frame  # noqa: E402
from occupancy.metadata import load_site  # noqa: E402
from sensors_sim.presence import simulate_presence  # noqa: E402


def presence(
    stays: pd.DataFrame, people: pd.DataFrame, zones: pd.DataFrame, tz: str
) -> pd.DataFrame:
    """Department presence per (zone, 15-min bucket) of the badge holders."""
    badge = set(people.loc[people["has_badge"], "person_id"])
    st = stays[stays["person_id"].isin(badge)]
    s = st["start"].astype("int64").to_numpy() // 10**9 // 900
    e = (st["end"].astype("int64").to_numpy() // 10**9 - 1) // 900
    n = e - s + 1
    idx = np.repeat(np.arange(len(st)), n)
    bucket = s[idx] + (np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n))
    p = pd.DataFrame(
        {
            "zone_id": st["zone_id"].to_numpy(object)[idx],
            "bucket": bucket,
            "department_id": st["department_id"].to_numpy(object)[idx],
            "badge": st["person_id"].to_numpy(object)[idx],
        }
    ).drop_duplicates()
    g = p.groupby(["zone_id", "bucket", "department_id"])["badge"]
    out = g.agg(sorted).rename("badges").reset_index()
    out["people"] = out["badges"].map(len)
    kind = zones.set_index("zone_id")["kind"]
    out["source"] = source_of_zone_kind(out["zone_id"].map(kind)).to_numpy()
    local = pd.to_datetime(out["bucket"] * 900, unit="s", utc=True).dt.tz_convert(tz)
    out["day"] = local.dt.date
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--weeks", type=int, default=30)
    ap.add_argument("--start", default="2026-05-04", help="a Monday")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    site = load_building(ROOT / "examples" / "office.yaml")
    tz = site.tz.key  # type: ignore[attr-defined]
    start = dt.date.fromisoformat(args.start)
    t0 = time.perf_counter()
    scenario = effects_scenario()
    truth = simulate_presence(
        site,
        scenario,  # type: ignore[arg-type]
        start,
        7 * args.weeks,
        args.seed,
        stays=True,
    )
    print(
        f"simulated {args.weeks} weeks: {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    spaces = spaces_of(site)
    hourly = level_hourly_from_counts(
        truth["space_counts"],
        spaces,
        timezone=tz,
        work_hours=(8, 18),
        weekdays=(0, 1, 2, 3, 4),
    )
    peaks = level_hourly_peaks(truth["space_counts"], spaces, timezone=tz)
    hourly = hourly.merge(peaks, on=["level", "level_id", "day", "hour"], how="left")
    mean = hourly["people_s"] / 3600
    hourly["peak_people"] = np.maximum(hourly["peak_people"].fillna(mean), mean)
    cap = (hourly["capacity_s"] / 3600).round().astype(int)
    # analytics_level_hourly rows of the truth: every desk measured, in
    # working hours (the columns of analytics.patterns.level_hourly).
    level_rows = pd.DataFrame(
        {
            "day": hourly["day"],
            "level": hourly["level"],
            "level_id": hourly["level_id"],
            "hour": hourly["hour"],
            "in_working_hours": True,
            "buckets": hourly["n"],
            "spaces": cap,
            "capacity": cap,
            "desks_measured": cap,
            "capacity_s": hourly["capacity_s"],
            "measured_s": hourly["n"] * 900.0 * cap,
            "occupied_s": hourly["people_s"],
            "people_s": hourly["people_s"],
            "peak_people": hourly["peak_people"],
            "peak_desks_occupied": hourly["peak_people"],
            "min_vacant": cap - hourly["peak_people"],
        }
    )[list(LEVEL_HOURLY_COLUMNS)]
    conn = connect(args.database_url)
    migrate(conn)
    load_site(conn, site)
    zones = read_frame(conn, "SELECT zone_id, kind FROM zones")
    pres = presence(truth["stays"], truth["people"], zones, tz)
    # The per-badge frames as the bitmap tables analyze stores them.
    tables = coloc_bits.as_bitmaps(conn, colocation_daily(pres))
    with conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "analytics_level_hourly",
            list(LEVEL_HOURLY_COLUMNS),
            level_rows.itertuples(index=False),
        )
        for name, frame in tables.items():
            copy_rows(cur, name, list(frame.columns), frame.itertuples(index=False))
        last = start + dt.timedelta(days=7 * args.weeks - 1)
        cur.execute(
            "INSERT INTO analytics_watermark (name, received_at) VALUES ('plan-demo', %s)"
            " ON CONFLICT (name) DO UPDATE SET received_at = EXCLUDED.received_at, computed_at = now()",
            (dt.datetime.combine(last, dt.time(23), dt.UTC),),
        )
    conn.close()
    print(
        f"{len(level_rows)} level-hour rows, {sum(len(f) for f in tables.values())} co-location rows;"
        f" {start}..{last} ({time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
