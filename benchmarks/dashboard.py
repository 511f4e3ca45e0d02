"""Dashboard speed on a year of data: the example building, or
(``--building big``) the 2,000-desk, 10-floor building of
``benchmarks/analytics.py`` (its generator, imported, not copied).

Writes a year (52 weeks of working days) of synthetic rollups for the building
through analytics' own ``write_rollups``, then measures

- every page callback, called as Dash calls it (inside a request, output
  serialised to JSON): p50 / p95 over ``--runs`` calls, for the default period
  (28 days), a filtered view and the whole year; the co-location page also
  with a floor and with a zone filter, over 28 days and the year;
- the first render of every page in headless Chromium (goto until every graph
  of the page is drawn and no callback is in flight, after Playwright's 500 ms
  network-idle window; also "rendered": the same without that window): p50 /
  p95 over ``--loads`` loads.

Targets: callback p95 < 300 ms, first render < 2 s.

    .venv/bin/python benchmarks/dashboard.py                 # private PostgreSQL
    .venv/bin/python benchmarks/dashboard.py --building big  # 2,000 desks
    .venv/bin/python benchmarks/dashboard.py --database-url postgresql://...  # existing, gets overwritten
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly

ROOT = Path(__file__).resolve().parent.parent
# This script's directory holds benchmarks named like the packages
# (dashboard.py, analytics.py): keep it off the import path.
sys.path[:] = [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]
LAST_DAY = dt.date(2026, 11, 20)  # a Friday
FIRST_DAY = LAST_DAY - dt.timedelta(days=52 * 7 - 3)  # Monday 52 weeks earlier
TZ = "Europe/Amsterdam"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


#: The space the /space page shows, and the filtered view (floor + department;
#: the co-location page also with a zone): set for the building in use.
VIEW = {
    "space": "f1-it-d001",
    "filter": "&floor=f1&department=it",
    "zone": "&floor=f1&zone=f1-it",
    "own_zones_only": "",
}


#: --only: the words a measured callback's name or page's path contains
#: (the Overview's path "/" as "/overview", see :func:`page_name`).
ONLY: list[str] = []


def page_name(path: str) -> str:
    """A page's name for --only: its path, "/overview" for the Overview."""
    return "/overview" if path == "/" else path


def use_big_building() -> None:
    """Switch :data:`VIEW` to the 2,000-desk building's ids."""
    VIEW.update(
        space="f1-d0001",
        filter="&floor=f1&department=it",
        zone="&floor=f1&zone=f1-it",
        own_zones_only="yes",
    )


def _bench_analytics() -> Any:
    """benchmarks/analytics.py as a module (its folder is off sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_analytics", Path(__file__).resolve().parent / "analytics.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_analytics"] = module  # its dataclasses look it up
    spec.loader.exec_module(module)
    return module


def load_big_building(conn: Any, desks: int = 2000) -> None:
    """The 2,000-desk building of benchmarks/analytics.py (10 floors, 6 rooms
    each), with its spaces laid out on a grid so the floor map draws them
    apart (2 m pitch, 30 per row) and one sensor per space."""
    bench = _bench_analytics()
    spaces = bench.make_spaces(desks)
    bench._load_metadata(conn, spaces, "hq")
    with conn, conn.cursor() as cur:
        cur.execute(
            """UPDATE spaces s SET x = 2 * ((n - 1) % 30) + 1,
                      y = 3 * ((n - 1) / 30) + 1, width = 1.6, height = 1.6
                 FROM (SELECT space_id, row_number() OVER (PARTITION BY z.floor_id
                              ORDER BY space_id) AS n
                         FROM spaces JOIN zones z USING (zone_id)) r
                WHERE s.space_id = r.space_id"""
        )
        cur.execute("UPDATE floors SET width_m = 62, height_m = 222")
        cur.execute(
            "INSERT INTO devices (device_id, site_id, kind, family, space_id, assigned) "
            "SELECT 'ds-' || space_id, 'hq', CASE WHEN kind = 'desk' THEN "
            "'desk_sensor' ELSE 'room_counter' END, 'generic', space_id, true "
            "FROM spaces"
        )


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------- synthetic year
def working_days() -> list[dt.date]:
    n = (LAST_DAY - FIRST_DAY).days + 1
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(n)]
    return [d for d in days if d.weekday() < 5]


def synthetic_rollups(
    spaces: pd.DataFrame,
    zones: pd.DataFrame,
    depts: list[str],
    rng: np.random.Generator,
) -> dict[str, pd.DataFrame]:
    """A plausible year: desks used ~45 % of days, a midday peak, rooms mostly
    under-filled, departments meeting in shared zones."""
    from analytics.utilization import membership

    days = working_days()
    nd, ns = len(days), len(spaces)
    cap = spaces["capacity"].to_numpy(dtype=float)
    is_desk = (spaces["kind"] == "desk").to_numpy()
    # --- per space and day
    used = rng.random((nd, ns)) < np.where(is_desk, 0.45, 0.6)
    occ = np.where(used, rng.uniform(1800, 30000, (nd, ns)), 0.0).round()
    people = np.where(
        is_desk, 1.0, np.maximum(1.0, np.round(rng.uniform(0.2, 0.8, (nd, ns)) * cap))
    )
    sd = pd.DataFrame(
        {
            "day": np.repeat(days, ns),
            "space_id": np.tile(spaces["space_id"].to_numpy(), nd),
            "available_s": 36000.0,
            "measured_s": 36000.0,
            "occupied_s": occ.ravel(),
            "occupied_total_s": occ.ravel(),
            "people_s": (occ * people).ravel(),
            "peak_people": np.where(used, people + (~is_desk), 0.0).ravel(),
            "stuck_s": 0.0,
            "sessions": np.where(used, rng.integers(1, 4, (nd, ns)), 0).ravel(),
            "hours_used": np.ceil(occ / 3600).astype(int).ravel(),
            "used_day": (occ >= 1800).ravel(),
        }
    )
    # --- per group and 15-min bucket, 08:00-18:00 local
    mem = membership(spaces)
    mem = mem.merge(spaces[["space_id", "capacity", "kind"]], on="space_id")
    groups = (
        mem.groupby(["level", "level_id"])
        .agg(
            spaces=("space_id", "size"),
            capacity=("capacity", "sum"),
            desks=("kind", lambda k: int((k == "desk").sum())),
        )
        .reset_index()
    )
    local = pd.DatetimeIndex(
        [
            pd.Timestamp(dt.datetime.combine(d, dt.time(8, 0)))
            + pd.Timedelta(minutes=15 * b)
            for d in days
            for b in range(40)
        ]
    ).tz_localize(TZ)
    bucket_start = local.tz_convert("UTC")
    bucket_day = np.repeat(days, 40)
    hour = (np.arange(40) / 4.0) + 8.0
    shape = np.exp(-(((hour - 12.5) / 2.8) ** 2))  # midday peak
    nb, ng = len(bucket_start), len(groups)
    day_factor = rng.uniform(0.5, 1.0, nd).repeat(40)
    util = (
        np.clip(shape[np.tile(np.arange(40), nd)] * day_factor, 0, 1)[:, None]
        * rng.uniform(0.4, 0.8, ng)[None, :]
    )
    gcap = groups["capacity"].to_numpy(dtype=float)
    gsp = groups["spaces"].to_numpy(dtype=float)
    people_b = util * gcap[None, :]
    lb = pd.DataFrame(
        {
            "bucket_start": np.repeat(bucket_start.to_numpy(), ng),
            "day": np.repeat(bucket_day, ng),
            "level": np.tile(groups["level"].to_numpy(), nb),
            "level_id": np.tile(groups["level_id"].to_numpy(), nb),
            "spaces": np.tile(gsp.astype(int), nb),
            "capacity": np.tile(gcap.astype(int), nb),
            "measured_spaces": np.tile(gsp.astype(int), nb),
            "desks_measured": np.tile(groups["desks"].to_numpy(), nb),
            "capacity_s": np.tile(gcap * 900, nb),
            "measured_s": np.tile(gsp * 900, nb),
            "occupied_s": (np.minimum(1.0, util * 1.3) * gsp[None, :] * 900).ravel(),
            "people_s": (people_b * 900).ravel(),
            "peak_people": np.ceil(people_b * 1.15).ravel(),
            "peak_desks_occupied": np.ceil(
                util * groups["desks"].to_numpy()[None, :]
            ).ravel(),
        }
    )
    lb["bucket_start"] = pd.to_datetime(lb["bucket_start"], utc=True)
    lb["in_working_hours"] = True  # the generator only makes working-hour buckets
    # --- rooms: seconds at each head count
    rooms = spaces[~is_desk]
    rh = []
    for rid, c in zip(rooms["space_id"], rooms["capacity"], strict=True):
        counts = np.arange(1, int(c) + 1)
        w = 1.0 / counts
        secs = rng.uniform(0.5, 1.5, (nd, len(counts))) * w * 3000
        rh.append(
            pd.DataFrame(
                {
                    "day": np.repeat(days, len(counts)),
                    "space_id": rid,
                    "people": np.tile(counts, nd),
                    "seconds": secs.ravel().round(),
                }
            )
        )
    # --- department presence per zone and bucket (badge pseudonyms as ids)
    pools = {d: [f"{d}-{i:03d}" for i in range(40)] for d in depts}
    zids = zones["zone_id"].to_numpy()
    rows_zone, rows_b, rows_day, rows_dept, rows_people, rows_badges = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    lam = shape[np.tile(np.arange(40), nd)] * 6
    zdept = dict(zip(zones["zone_id"], zones["department_id"], strict=True))
    for z in zids:
        for d in depts:
            # Big building: a department is seen in its own neighbourhood and
            # in the zones of no department (meeting rooms, shared), not at
            # other departments' desks (keeps its year in memory: ~4x fewer
            # rows). The example building keeps every department everywhere.
            own = zdept.get(z)
            if VIEW["own_zones_only"] and isinstance(own, str) and own != d:
                continue
            n = rng.poisson(lam)
            keep = n > 0
            idx = np.nonzero(keep)[0]
            offs = rng.integers(0, 40, len(idx))
            rows_zone.append(np.full(len(idx), z, dtype=object))
            rows_b.append(bucket_start[idx])
            rows_day.append(bucket_day[idx])
            rows_dept.append(np.full(len(idx), d, dtype=object))
            rows_people.append(n[idx])
            pool = pools[d]
            rows_badges.append(
                [
                    [pool[(o + j) % 40] for j in range(k)]
                    for o, k in zip(offs, n[idx], strict=True)
                ]
            )
    dp = pd.DataFrame(
        {
            "bucket_start": pd.to_datetime(
                np.concatenate([np.asarray(b) for b in rows_b]), utc=True
            ),
            "day": np.concatenate(rows_day),
            "zone_id": np.concatenate(rows_zone),
            "source": "badge",
            "department_id": np.concatenate(rows_dept),
            "people": np.concatenate(rows_people),
            "badges": [b for part in rows_badges for b in part],
        }
    )
    from analytics.colocation import colocation_daily
    from analytics.patterns import level_hourly

    return {
        # the per-day co-location tables the reads aggregate, as analyze makes them
        **colocation_daily(
            dp.assign(bucket=dp["bucket_start"].astype("int64") // 10**9)
        ),
        "analytics_space_daily": sd,
        "analytics_level_buckets": lb,
        # the hourly sums analyze writes next to the buckets
        "analytics_level_hourly": level_hourly(lb, TZ),
        "analytics_room_headcount": pd.concat(rh, ignore_index=True),
        "analytics_dept_presence": dp,
    }


def prepare(url: str, seed: int, big: bool = False) -> None:
    from analytics.store import read_metadata, write_rollups
    from occupancy.building import load_building
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site

    conn = connect(url)
    try:
        migrate(conn)
        if big:
            load_big_building(conn)
        else:
            load_site(conn, load_building(ROOT / "examples" / "office.yaml"))
        spaces, zones = read_metadata(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT department_id FROM departments ORDER BY 1")
            depts = [r[0] for r in cur.fetchall()]
        t0 = time.perf_counter()
        frames = synthetic_rollups(spaces, zones, depts, np.random.default_rng(seed))
        say(
            f"generated {', '.join(f'{k}={len(v)}' for k, v in frames.items())} rows in {time.perf_counter() - t0:.1f} s"
        )
        with conn.cursor() as cur:
            for table, frame in frames.items():
                cur.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                    (table,),
                )
                missing = {r[0] for r in cur.fetchall()} - set(frame.columns)
                if missing:
                    raise SystemExit(
                        f"{table}: the generator lacks columns {sorted(missing)} (schema changed)"
                    )
        conn.rollback()
        t0 = time.perf_counter()
        written = write_rollups(conn, FIRST_DAY, LAST_DAY, frames)
        say(f"written {sum(written.values())} rows in {time.perf_counter() - t0:.1f} s")
        # What analyze does after writing: the co-location week cells and
        # the per-space month sums the readers use.
        from analytics.coloc_weeks import refresh_weeks
        from analytics.space_months import refresh_months

        t0 = time.perf_counter()
        days = list(frames["analytics_space_daily"]["day"].unique())
        refresh_weeks(conn, days)
        refresh_months(conn, days)
        say(f"week cells and month sums in {time.perf_counter() - t0:.1f} s")
        with conn, conn.cursor() as cur:
            cur.execute("ANALYZE")
            now = dt.datetime.now(dt.UTC)
            cur.execute(
                "INSERT INTO device_health (device_id, last_seen, battery_pct, online) "
                "SELECT device_id, %s - (random() * interval '2 hours'), 5 + random() * 95, random() > 0.05 FROM devices "
                "ON CONFLICT (device_id) DO NOTHING",
                (now,),
            )
    finally:
        conn.close()


# ----------------------------------------------------------------- measurements
def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def callback_cases(app: Any) -> list[tuple[str, Callable[[], Any]]]:
    from dashboard.app import page_module, sync_filters

    base = f"?site=hq&from={(LAST_DAY - dt.timedelta(days=27)).isoformat()}&to={LAST_DAY.isoformat()}&wh=1"
    filt = base + VIEW["filter"]
    year = f"?site=hq&from={FIRST_DAY.isoformat()}&to={LAST_DAY.isoformat()}&wh=1"
    ov, fm, pa = (
        page_module("overview"),
        page_module("floor_map"),
        page_module("patterns"),
    )
    ro, co, de = (
        page_module("rooms"),
        page_module("collaboration"),
        page_module("devices"),
    )
    sp = page_module("space")
    cases: list[tuple[str, Callable[[], Any]]] = []
    # The co-location page with a floor or a zone filter, 28 days and the year.
    for label, q in (
        ("28d+floor", base + "&floor=f1"),
        ("28d+zone", base + VIEW["zone"]),
        ("year+floor", year + "&floor=f1"),
        ("year+zone", year + VIEW["zone"]),
    ):
        cases.append(
            (f"collaboration [{label}]", lambda q=q: co.update_collaboration(q))
        )
    for label, q in (("28d", base), ("28d+filter", filt), ("year", year)):
        cases += [
            (
                f"filters.sync [{label}]",
                lambda q=q: sync_filters(q, [None] * 8, "app-url"),
            ),
            (f"overview.now [{label}]", lambda q=q: ov.update_now(0, q)),
            (f"overview.period [{label}]", lambda q=q: ov.update_period(q)),
            (
                f"floor_map.measure [{label}]",
                lambda q=q: fm.update_floor_map(q, "time_used_pct", 0),
            ),
            (
                f"floor_map.live [{label}]",
                lambda q=q: fm.update_floor_map(q, "live", 0),
            ),
            (
                f"patterns.building [{label}]",
                lambda q=q: pa.update_patterns(q, "building"),
            ),
            (f"patterns.zone [{label}]", lambda q=q: pa.update_patterns(q, "zone")),
            (f"rooms [{label}]", lambda q=q: ro.update_rooms(q)),
            (f"collaboration [{label}]", lambda q=q: co.update_collaboration(q)),
            (f"devices [{label}]", lambda q=q: de.update_devices(q)),
            (
                f"space [{label}]",
                lambda q=q: sp.update_space(q + "&space=" + VIEW["space"]),
            ),
        ]
        for report, level in (
            ("utilization", "floor"),
            ("rooms", None),
            ("colocation", "matrix"),
        ):
            cases.append(
                (
                    f"export.{report} [{label}]",
                    lambda q=q, r=report, lv=level: _export(r, lv, q),
                )
            )
    return cases


def _export(report: str, level: str | None, search: str) -> Any:
    from dashboard.app import current_filters
    from dashboard.data import current, report_csv

    frame = current().report(report, current_filters(search), level=level)
    return report_csv(frame)


def measure_callbacks(
    app: Any, runs: int, cold_runs: int
) -> list[tuple[str, float, float, float, float]]:
    """(case, cold p50, cold p95, warm p50, warm p95) [ms]. Cold: the result
    cache emptied before each call (what the first visitor after `occupancy
    analyze` waits); warm: repeated calls (later visitors, navigation back)."""
    data = app.server.extensions["occupancy_dashboard"]

    def timed(fn: Callable[[], Any]) -> float:
        with app.server.test_request_context("/"):
            t0 = time.perf_counter()
            result = fn()
            if not isinstance(result, bytes):
                json.dumps(result, cls=plotly.utils.PlotlyJSONEncoder)
            return (time.perf_counter() - t0) * 1000

    out = []
    for name, fn in callback_cases(app):
        if ONLY and not any(w in name for w in ONLY):
            continue
        timed(fn)  # imports, metadata
        cold = []
        for _ in range(cold_runs):
            data.clear_cache()
            data.metadata()
            cold.append(timed(fn))
        warm = [timed(fn) for _ in range(runs)]
        row = (
            name,
            statistics.median(cold),
            pct(cold, 0.95),
            statistics.median(warm),
            pct(warm, 0.95),
        )
        out.append(row)
        say(
            f"  {name:34s} cold p50 {row[1]:7.1f} p95 {row[2]:7.1f} | warm p50 {row[3]:6.1f} p95 {row[4]:6.1f} ms"
        )
    return out


#: Page path -> its graphs (dcc.Graph), each drawn before a page counts as rendered.
GRAPHS = {
    "/": 2,
    "/floor-map": 1,
    "/patterns": 3,
    "/rooms": 1,
    "/collaboration": 3,
    "/devices": 1,
    "/export": 0,
    "/space": 1,
}
#: Rendered: no callback in flight and all the page's graphs drawn by plotly.js
#: (a graph's plot exists and is not pending). A page whose figures come with
#: its layout has no callback in flight while plotly.js still loads.
RENDERED = """(graphs) => !document.querySelector('[data-dash-is-loading="true"]')
    && !document.querySelector('.dash-graph--pending')
    && Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(p => p._fullLayout).length >= graphs"""


#: Milestones of a load from the browser's own timing [ms since navigation]:
#: the HTML's scripts run (DOMContentLoaded) and the first layout's response
#: received; the load's rendered time minus the later of the two is what
#: the browser needed after both (React, the grids, plotly.js's draws).
MILESTONES = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const lay = performance.getEntriesByType('resource')
        .filter(r => r.name.includes('_dash-layout'))[0];
    return [nav.domContentLoadedEventEnd, lay ? lay.responseEnd : NaN];
}"""


def _load_once(
    browser: Any, url: str, graphs: int, shot: Path | None
) -> tuple[float, float, float, float]:
    """One load of ``url`` in a new browser context: (until rendered incl.
    the network-idle window, until rendered, DOMContentLoaded, layout
    received) [ms]."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("#filters-site .Select-value", timeout=30_000)
    page.wait_for_function(RENDERED, arg=graphs, timeout=30_000)
    drawn_ms = (time.perf_counter() - t0) * 1000
    page.wait_for_load_state("networkidle")
    page.wait_for_function(RENDERED, arg=graphs, timeout=30_000)
    dt_ms = (time.perf_counter() - t0) * 1000
    dcl, layout = page.evaluate(MILESTONES)
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    context.close()
    return dt_ms, drawn_ms, float(dcl), float(layout)


def _page_loads(
    browser: Any, data: Any, url: str, path: str, loads: int, shots: Path | None
) -> tuple[list[float], list[float], list[float], list[tuple[float, float]]]:
    """Cold (the result cache emptied; the very first load, which also fills
    the browser's cache, not counted) and warm loads of one page: (cold,
    cold rendered, warm, cold milestones)."""
    times: list[float] = []
    rendered: list[float] = []
    warm: list[float] = []
    marks: list[tuple[float, float]] = []
    for i in range(2 * loads + 1):
        if i <= loads:
            data.clear_cache()
        shot = None
        if shots is not None and i == 2 * loads:
            name = "overview" if path == "/" else path.strip("/").replace("-", "_")
            shot = shots / f"dashboard_{name}.png"
        dt_ms, drawn_ms, dcl, layout = _load_once(browser, url, GRAPHS[path], shot)
        if 0 < i <= loads:
            times.append(dt_ms)
            rendered.append(drawn_ms)
            marks.append((dcl, layout))
        elif i > loads:
            warm.append(dt_ms)
    return times, rendered, warm, marks


def measure_first_render(
    app: Any, loads: int, shots: Path | None
) -> list[tuple[str, float, float, float, float]]:
    """(page, cold p50, cold p95, warm p95, cold p95 rendered) [ms] from goto
    until the page is rendered (:data:`RENDERED`) after Playwright's
    network-idle window (500 ms without a request); "rendered": the same
    without waiting for that window. Cold empties the server's result cache
    before the load. Also says the cold loads' median :data:`MILESTONES`."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    query = f"?site=hq&from={(LAST_DAY - dt.timedelta(days=27)).isoformat()}&to={LAST_DAY.isoformat()}&wh=1"
    pages = [p for p in GRAPHS if not ONLY or any(w in page_name(p) for w in ONLY)]
    out = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            data = app.server.extensions["occupancy_dashboard"]
            for path in pages:
                extra = "&space=" + VIEW["space"] if path == "/space" else ""
                url = base + path + query + extra
                times, rendered, warm, marks = _page_loads(
                    browser, data, url, path, loads, shots
                )
                out.append(
                    (
                        path,
                        statistics.median(times),
                        pct(times, 0.95),
                        pct(warm, 0.95),
                        pct(rendered, 0.95),
                    )
                )
                dcl = statistics.median(m[0] for m in marks)
                lay = statistics.median(m[1] for m in marks)
                say(
                    f"  {path:14s} cold p50 {out[-1][1]:6.0f} p95 {out[-1][2]:6.0f} | warm p95 {out[-1][3]:6.0f} | rendered cold p95 {out[-1][4]:6.0f} ms"
                    f" | cold median: scripts run {dcl:5.0f}, layout received {lay:5.0f}, rendered {statistics.median(rendered):5.0f} ms"
                )
            browser.close()
    finally:
        server.shutdown()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        help="Use this database (its rollups for the year are replaced).",
    )
    parser.add_argument(
        "--runs", type=int, default=20, help="Warm calls per case [20]."
    )
    parser.add_argument(
        "--cold-runs", type=int, default=5, help="Cold calls per case [5]."
    )
    parser.add_argument(
        "--skip-generate", action="store_true", help="Reuse the year in --database-url."
    )
    parser.add_argument(
        "--screenshots", type=Path, help="Save a screenshot of every page here."
    )
    parser.add_argument(
        "--loads", type=int, default=5, help="Browser loads per page [5]."
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--building",
        choices=("example", "big"),
        default="example",
        help="examples/office.yaml (298 desks) or the 2,000-desk building of "
        "benchmarks/analytics.py [example].",
    )
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-callbacks", action="store_true")
    parser.add_argument(
        "--only",
        default="",
        help="Measure only the callbacks whose name contains one of these "
        "comma-separated words (e.g. 'year,zone'), and only the pages "
        "whose path contains one (e.g. '/floor-map') [all].",
    )
    args = parser.parse_args()
    ONLY[:] = [w for w in args.only.split(",") if w]

    import logging

    logging.basicConfig(level=logging.WARNING)
    pg = None
    url = args.database_url
    if not url:
        from app.services import PostgresServer, free_port

        tmp = Path(tempfile.mkdtemp(prefix="dash-bench-"))
        os.chmod(tmp, 0o755)
        pg = PostgresServer(tmp / "pg", free_port(), fsync=False)
        say(f"starting a private PostgreSQL in {tmp}")
        pg.start()
        url = pg.url()
    try:
        say(
            f"a year of rollups: {FIRST_DAY} .. {LAST_DAY} ({len(working_days())} working days)"
        )
        if args.building == "big":
            use_big_building()
        if not args.skip_generate:
            prepare(url, args.seed, big=args.building == "big")
        from dashboard.app import create_app
        from occupancy.settings import load_settings

        app = create_app(
            load_settings({"database_url": url, "dashboard_prerender": True})
        )
        say(
            f"callbacks ({args.cold_runs} cold + {args.runs} warm runs each, server side incl. JSON):"
        )
        cb = (
            []
            if args.skip_callbacks
            else measure_callbacks(app, args.runs, args.cold_runs)
        )
        fr: list[tuple[str, float, float, float, float]] = []
        if not args.skip_browser:
            say(
                f"first render ({args.loads} cold + {args.loads} warm loads per page, headless Chromium):"
            )
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
            fr = measure_first_render(app, args.loads, args.screenshots)
    finally:
        if pg is not None:
            pg.stop(mode="immediate")
            # Its temp dir: the private cluster holds a year of rollups (2.6 GB).
            shutil.rmtree(pg.data_dir.parent, ignore_errors=True)
    print(
        f"\nDashboard benchmark, {os.cpu_count()} CPU(s), shared machine: figures are noisy"
    )
    print(
        f"{'callback':36s} {'cold p50':>9s} {'cold p95':>9s} {'warm p50':>9s} {'warm p95':>9s}  [ms]"
    )
    for name, c50, c95, w50, w95 in cb:
        flag = "  cold > 300 ms" if c95 > 300 else ""
        print(f"{name:36s} {c50:9.1f} {c95:9.1f} {w50:9.1f} {w95:9.1f}{flag}")
    if cb:
        worst_c = max(cb, key=lambda r: r[2])
        worst_w = max(cb, key=lambda r: r[4])
        print(
            f"worst cold p95: {worst_c[0]} {worst_c[2]:.1f} ms; worst warm p95: {worst_w[0]} {worst_w[4]:.1f} ms (target < 300 ms)"
        )
    if fr:
        print(
            f"\n{'first render (incl. 500 ms idle)':36s} {'cold p50':>9s} {'cold p95':>9s} {'warm p95':>9s} {'rendered':>9s}  [ms]"
        )
        for name, c50, c95, w95, r95 in fr:
            print(
                f"{name:36s} {c50:9.0f} {c95:9.0f} {w95:9.0f} {r95:9.0f}{'  cold > 2 s' if c95 > 2000 else ''}"
            )
        print(
            "rendered: cold p95 until every graph is drawn and no callback is in"
            " flight, without Playwright's 500 ms network-idle window"
        )
        worst = max(fr, key=lambda r: r[2])
        print(
            f"worst first render cold p95: {worst[0]} {worst[2]:.0f} ms (target < 2000 ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
