"""Benchmark of the forecast (analytics/forecast.py) on a simulated year.

Simulates the example building (examples/office.yaml) for a year plus the
forecast horizon with every demand effect on (headcount growth, a hybrid-policy
change, Dutch school holidays, a winter sickness dip, a one-off event, a
planted intervention), turns the true head counts into the hourly level
aggregates the forecast reads (``analytics.plan_truth``), then:

- times ``forecast_all`` (rolling-origin backtest + model choice + forecast)
  for every level (building, floors, zones, departments) on the year;
- scores that forecast against the truth of the following weeks: MAE, MASE
  (scaled by the in-sample one-week seasonal-naive MAE, Hyndman & Koehler
  2006, m = one week), and the share of true values inside the 80 % and 95 %
  intervals; per level and model, with the seasonal-naive baseline beside,
  and the bias (mean error ÷ mean truth [%]: > 0 = forecast too low), which
  tells a change the history could not show from noise;
- prints the load average beside every figure.

With ``--with-planned-changes`` the same origins are forecast a second time
with the policy change announced in advance (analytics/forecast_changes.py):
its date and the nominal ratio the simulator is configured with (office days
after ÷ before), as a facility manager would state it, never a factor fitted
on the truth; both runs' tables are printed.

    .venv/bin/python benchmarks/forecast.py [--weeks 8] [--seed 11]
        [--with-planned-changes]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:] = [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

from analytics.forecast import (  # noqa: E402
    MODELS,
    ForecastParams,
    PlannedChange,
    fit_predict,
    forecast_all,
    hour_grid,
    hourly_series,
    mase_scale,
)
from analytics.plan_io import closed_days  # noqa: E402
from analytics.plan_truth import level_hourly_from_counts  # noqa: E402
from occupancy.building import load_building  # noqa: E402
from occupancy.schoolholidays import school_holidays  # noqa: E402
from sensors_sim.presence import simulate_presence  # noqa: E402
from sensors_sim.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
START = dt.date(2025, 12, 29)  # a Monday
HISTORY_DAYS = 364


def effects_scenario() -> object:
    sc = load_scenario(None)
    return sc.replace(
        headcount_growth_pct=15.0,
        policy_change_date="2026-09-07",
        policy_office_days_factor=1.2,
        school_holidays="middle",
        school_holiday_factor=0.75,
        winter_sickness_dip=0.15,
        events={"2026-06-18": 1.8},
        intervention_date="2026-10-05",
        intervention_zones=("f1-project",),
        intervention_visit_share=0.3,
    )


def spaces_of(site: object) -> pd.DataFrame:
    rows = []
    for b in site.buildings:  # type: ignore[attr-defined]
        for f in b.floors:
            for z in f.zones:
                for s in (*z.desks, *z.rooms):
                    dept = z.department_id if z.kind == "neighbourhood" else None
                    rows.append((s.id, s.kind, s.capacity, z.id, f.id, b.id, dept))
    return pd.DataFrame(
        rows,
        columns=[
            "space_id",
            "kind",
            "capacity",
            "zone_id",
            "floor_id",
            "building_id",
            "department_id",
        ],
    )


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load average {a:.2f} {b:.2f} {c:.2f}"


def planned_from_scenario(sc: object) -> tuple[PlannedChange, ...]:
    """The policy change as a facility manager announces it: its date and the
    nominal ratio of office days after ÷ before, which the simulator's
    configuration states itself (``policy_office_days_factor``: 1.2 = 2.5 → 3
    days a week) — not a factor fitted on the simulated truth."""
    date = getattr(sc, "policy_change_date", None)
    factor = float(getattr(sc, "policy_office_days_factor", 1.0))
    if date is None or factor == 1.0:
        return ()
    return (PlannedChange(dt.date.fromisoformat(date), factor),)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weeks", type=int, default=8, help="forecast horizon [weeks]")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--origins", type=int, default=6, help="evaluation origins, 4 weeks apart"
    )
    ap.add_argument(
        "--with-planned-changes",
        action="store_true",
        help="also forecast with the policy change announced (its date and the"
        " simulator's nominal office-days ratio) and print both runs' tables",
    )
    ap.add_argument(
        "--calib-origins",
        type=int,
        default=0,
        help="also forecast every origin with the intervals calibrated on the"
        " latest N backtest origins only (alternated with the default run)",
    )
    ap.add_argument(
        "--without-yearly",
        action="store_true",
        help="also forecast every origin without the yearly term (alternated"
        " with the default run): before vs after in one process",
    )
    ap.add_argument(
        "--aci",
        action="store_true",
        help="also forecast every origin with the interval levels adapted by"
        " ACI over the backtest (alternated with the default run)",
    )
    ap.add_argument(
        "--pool-relative",
        action="store_true",
        help="also forecast every origin with the intervals from the relative"
        " errors pooled over every group (alternated with the default run)",
    )
    ap.add_argument(
        "--block",
        action="store_true",
        help="also forecast every origin with the conformal levels of n ="
        " the backtest origins (alternated with the default run)",
    )
    ap.add_argument(
        "--ols-building",
        action="store_true",
        help="also score the building forecast OLS-reconciled with the sum of"
        " its floors' (Hyndman et al. 2011), level building_ols",
    )
    args = ap.parse_args()
    site = load_building(ROOT / "examples" / "office.yaml")
    sc = effects_scenario()
    days = HISTORY_DAYS + 7 * args.weeks
    t = time.perf_counter()
    truth = simulate_presence(site, sc, START, days, args.seed)  # type: ignore[arg-type]
    print(f"simulated {days} days: {time.perf_counter() - t:.1f} s ({load()})")
    hourly = level_hourly_from_counts(
        truth["space_counts"],
        spaces_of(site),
        timezone=site.tz.key,  # type: ignore[attr-defined]
        work_hours=(8, 18),
        weekdays=(0, 1, 2, 3, 4),
    )
    series = hourly_series(hourly, 900)
    end = START + dt.timedelta(days=days - 1)
    closed = closed_days("NL", (), START, end)
    school = school_holidays("middle", START, end)
    grid = hour_grid(
        START, end, work_hours=(8, 18), weekdays=range(5), closed=closed, school=school
    )
    planned = planned_from_scenario(sc) if args.with_planned_changes else ()
    runs = evaluate(series, grid, site.tz.key, args, planned)  # type: ignore[attr-defined]
    told = ", ".join(f"{c.start}:{c.factor:g}" for c in planned)
    for slot, r in enumerate(runs):
        if slot % 2 and not planned:
            continue
        title = (
            f"with planned changes ({told})" if slot % 2 else "without planned changes"
        )
        if slot >= 2:
            title += f", {_variant_label(args)}"
        summary(r, title)
    return 0


def _variant_label(args: argparse.Namespace) -> str:
    if args.calib_origins:
        return f"intervals calibrated on the last {args.calib_origins} origins"
    if args.aci:
        return "interval levels adapted by ACI"
    if args.block:
        return "conformal levels with the backtest origins as the units"
    if args.pool_relative:
        return "intervals from the relative errors pooled over every group"
    return "without the yearly term"


def evaluate(
    series: pd.DataFrame,
    grid: pd.DataFrame,
    tz: str,
    args: argparse.Namespace,
    planned: tuple[PlannedChange, ...],
) -> list[pd.DataFrame]:
    """Scores of the rolling evaluation origins (the last is the end of the
    simulated year; each forecast sees only the history before its origin):
    without, and (when ``planned``) with the planned changes. An origin after
    every change gets the same forecast both ways (the rule leaves a change in
    the history to the data), so it is computed once. Slots: 2 × variant +
    (1 with the planned changes); variant 1: ``--calib-origins``, ``--aci``,
    ``--pool-relative`` or ``--without-yearly``."""
    variants = [ForecastParams(horizon_weeks=args.weeks)]
    if args.calib_origins:
        variants.append(
            ForecastParams(horizon_weeks=args.weeks, calib_origins=args.calib_origins)
        )
    elif args.aci:
        variants.append(ForecastParams(horizon_weeks=args.weeks, aci=True))
    elif args.block:
        variants.append(ForecastParams(horizon_weeks=args.weeks, block=True))
    elif args.pool_relative:
        variants.append(ForecastParams(horizon_weeks=args.weeks, pool_relative=True))
    elif args.without_yearly:
        variants.append(ForecastParams(horizon_weeks=args.weeks, yearly=False))
    runs: list[list[pd.DataFrame]] = [[] for _ in range(2 * len(variants))]
    for i in reversed(range(args.origins)):
        last_hist = START + dt.timedelta(days=HISTORY_DAYS - 1 - 28 * i)
        history = grid[grid["day"] <= last_hist].reset_index(drop=True)
        future = grid[
            (grid["day"] > last_hist)
            & (grid["day"] <= last_hist + dt.timedelta(days=7 * args.weeks))
        ].reset_index(drop=True)
        ahead = tuple(c for c in planned if c.start > last_hist)
        for run, plan in enumerate(((), ahead) if planned else ((),)):
            for v, p in enumerate(variants):  # alternated: the same load
                slot = 2 * v + run
                if run and not plan:
                    runs[slot].append(runs[slot - 1][-1])
                    continue
                runs[slot].append(
                    _one_origin(series, history, future, last_hist, p, tz, plan, v)
                )
    return [pd.concat(r, ignore_index=True) if r else pd.DataFrame() for r in runs]


def _one_origin(
    series: pd.DataFrame,
    history: pd.DataFrame,
    future: pd.DataFrame,
    last_hist: dt.date,
    p: ForecastParams,
    tz: str,
    plan: tuple[PlannedChange, ...],
    variant: int,
) -> pd.DataFrame:
    """forecast_all at one origin, timed, and its out-of-sample scores."""
    past = series[series["day"] <= last_hist]
    t, c = time.perf_counter(), time.process_time()
    fc, _ = forecast_all(past, history, future, p, k=5, timezone=tz, planned=plan)
    took, cpu = time.perf_counter() - t, time.process_time() - c
    what = " (planned changes)" if plan else ""
    if variant:
        what += (
            f" (calibrated on {p.calib_origins} origins)"
            if p.calib_origins
            else " (ACI)"
            if p.aci
            else " (origin units)"
            if p.block
            else " (pooled relative)"
            if p.pool_relative
            else " (without the yearly term)"
        )
    print(
        f"origin {last_hist + dt.timedelta(days=1)}{what}: forecast_all of"
        f" {fc.groupby(['level', 'level_id']).ngroups} groups from"
        f" {history['week'].nunique()} weeks of history, {p.horizon_weeks} weeks"
        f" ahead (backtest {p.origins} origins × {len(MODELS)} models):"
        f" {took:.2f} s wall, {cpu:.2f} s CPU ({load()})"
    )
    if OLS_BUILDING:
        fc = pd.concat([fc, ols_building(fc)], ignore_index=True)
    r = report(series, history, future, fc, p)
    r.insert(0, "origin", last_hist + dt.timedelta(days=1))
    return r


OLS_BUILDING = "--ols-building" in sys.argv


def ols_building(fc: pd.DataFrame) -> pd.DataFrame:
    """The building forecast reconciled with its F floors by OLS (Hyndman et
    al. 2011: the projection S (S'S)⁻¹ S' ŷ onto the coherent forecasts; for
    one building over F floors its building row is (F · direct + Σ floors) ÷
    (F + 1)); the intervals are the direct ones moved by the same amount
    (for the MASE; their coverage is not a calibrated one)."""
    b = fc[fc["level"] == "building"].reset_index(drop=True)
    floors = fc[fc["level"] == "floor"]
    n = floors["level_id"].nunique()
    if b.empty or not n:
        return b.iloc[:0]
    bottom = floors.groupby(["day", "hour"], sort=False)["people"].sum()
    up = bottom.reindex(pd.MultiIndex.from_frame(b[["day", "hour"]])).to_numpy()
    rec = (n * b["people"].to_numpy() + up) / (n + 1)
    shift = np.where(b["closed"], 0.0, rec - b["people"].to_numpy())
    out = b.assign(level="building_ols", people=b["people"] + shift)
    for c in ("people_lo80", "people_hi80", "people_lo95", "people_hi95"):
        out[c] = b[c] + shift
    return out


def summary(r: pd.DataFrame, title: str) -> None:
    """Print the scores per origin and level, per level, and the models."""
    pd.set_option("display.width", 200)
    print(f"\n=== {title} ({load()})")
    print("\nper origin and level (mean over groups):")
    cols = ["mae", "bias_pct", "mase", "mase_naive", "cov80", "cov95"]
    print(r.groupby(["origin", "level"])[cols].mean().round(3).to_string())
    print(
        "\nper level over all origins (bar: MASE < 1 at building and floor,"
        " 80 % intervals covering 75-85 %):"
    )
    print(r.groupby("level")[cols].mean().round(3).to_string())
    print("\nmodels chosen:", r["model"].value_counts().to_dict())
    for level, m in r.groupby("level")["model"]:
        print(f"  {level}: {m.value_counts().to_dict()}")


def report(
    series: pd.DataFrame,
    history: pd.DataFrame,
    future: pd.DataFrame,
    fc: pd.DataFrame,
    p: ForecastParams,
) -> pd.DataFrame:
    """Out-of-sample score of the forecast (and of the seasonal naive) against
    the truth of the horizon, per level."""
    rows = []
    for (level, level_id), grp in fc.groupby(["level", "level_id"]):
        truth_level = str(level).removesuffix("_ols")
        s = series[(series["level"] == truth_level) & (series["level_id"] == level_id)]
        hist = history.merge(s[["day", "hour", "people"]], on=["day", "hour"])
        scale = mase_scale(hist[hist["week"] > hist["week"].max() - p.history_weeks])
        fut = future.merge(s[["day", "hour", "people"]], on=["day", "hour"])
        g = grp.merge(
            fut[["day", "hour", "people"]], on=["day", "hour"], suffixes=("", "_true")
        )
        g = g[~g["closed"]]
        naive = fit_predict(hist, fut[~fut["closed"]], "seasonal_naive", p)
        y = g["people_true"].to_numpy()
        rows.append(
            {
                "level": level,
                "level_id": level_id,
                "model": g["model"].iloc[0],
                "mae": np.mean(np.abs(y - g["people"])),
                # Mean error ÷ mean truth: > 0 = the forecast was too low.
                "bias_pct": 100 * np.mean(y - g["people"]) / max(np.mean(y), 1e-9),
                "mase": np.mean(np.abs(y - g["people"])) / scale,
                "mase_naive": np.mean(
                    np.abs(
                        fut[~fut["closed"]]["people"].to_numpy()
                        - naive["people"].to_numpy()
                    )
                )
                / scale,
                "cov80": 100
                * np.mean(
                    (y >= g["people_lo80"] - 1e-9) & (y <= g["people_hi80"] + 1e-9)
                ),
                "cov95": 100
                * np.mean(
                    (y >= g["people_lo95"] - 1e-9) & (y <= g["people_hi95"] + 1e-9)
                ),
            }
        )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    raise SystemExit(main())
