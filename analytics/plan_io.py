"""The plan's reads: the rollups the forecast, what-if, stacking plan and
intervention analysis need, and the calendar known in advance (public
holidays of the site's country from the ``holidays`` package, the site's
closed days, school holidays). The thin I/O edge of analytics/forecast.py,
whatif.py, stacking.py and intervention.py."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

import holidays as holidays_lib
import pandas as pd

from analytics.calendar import Calendar
from analytics.db_io import StoreError, read_metadata
from analytics.forecast import (
    ForecastParams,
    PlannedChange,
    forecast_all,
    hour_grid,
    hourly_series,
)
from analytics.forecast_changes import (
    PlannedChangeError,
    check_scopes,
    parse_planned_changes,
)
from analytics.read_colocation import read_colocation
from analytics.read_common import calendar_for, read_level_agg, settings_or_default
from analytics.read_rooms import read_desk_sharing
from analytics.stacking import (
    StackingError,
    StackParams,
    StackResult,
    adjacent_neutral,
    solve,
)
from analytics.whatif import Scenario, evaluate_all
from occupancy.db import Connection
from occupancy.planned_changes import from_records
from occupancy.schoolholidays import school_holidays
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "FORECAST_LEVELS",
    "closed_days",
    "read_demand",
    "read_desks",
    "read_forecast",
    "read_forecast_input",
    "read_headcount",
    "read_planned_changes",
    "read_planned_in_force",
    "read_stack",
    "read_whatif",
]

FORECAST_LEVELS = ("building", "floor", "zone", "department")


def closed_days(
    country: str, extra: Iterable[dt.date], first: dt.date, last: dt.date
) -> set[dt.date]:
    """Public holidays of ``country`` (ISO code, the ``holidays`` package) and
    the ``extra`` closed days in [first, last]."""
    try:
        hol = holidays_lib.country_holidays(
            country, years=range(first.year, last.year + 1)
        )
    except NotImplementedError as exc:
        raise StoreError(f"country {country!r}: no public holidays known") from exc
    out = {d for d in hol if first <= d <= last}
    return out | {d for d in extra if first <= d <= last}


def read_forecast_input(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    levels: Iterable[str] = FORECAST_LEVELS,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Hourly people and capacity per group of ``levels`` over [start, end]
    (working hours): :func:`analytics.forecast.hourly_series` of the stored
    hourly level aggregates."""
    settings = settings_or_default(settings)
    parts = []
    for level in levels:
        if level not in FORECAST_LEVELS:
            raise StoreError(
                f"level {level!r}: use one of {', '.join(FORECAST_LEVELS)}"
            )
        parts.append(read_level_agg(conn, start, end, level, by_hour=True))
    # Only the levels with rows: concatenating an empty frame (all-NA
    # columns) is deprecated in pandas.
    agg = pd.concat([x for x in parts if len(x)] or parts[:1], ignore_index=True)
    return hourly_series(agg, int(settings.bucket_minutes) * 60)


def read_forecast(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    horizon_weeks: int = 4,
    levels: Iterable[str] = FORECAST_LEVELS,
    settings: Settings | None = None,
    planned: Sequence[PlannedChange] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast of the ``horizon_weeks`` (1-8) after ``end`` from the history
    [start, end]: (forecast, backtest scores) of
    :func:`analytics.forecast.forecast_all`; ``planned``: announced changes
    (analytics/forecast_changes.py)."""
    settings = settings_or_default(settings)
    if not 1 <= horizon_weeks <= 8:
        raise StoreError(f"horizon {horizon_weeks} weeks: use 1 to 8")
    if end < start:
        raise StoreError(f"history ends {end} before it starts {start}")
    cal = calendar_for(conn, settings)
    series = read_forecast_input(conn, start, end, levels=levels, settings=settings)
    last = end + dt.timedelta(days=7 * horizon_weeks)
    # The future starts the day after the history (its week may be partial).
    grid = _grid(cal, settings, start, last)
    planned = read_planned_in_force(conn, settings, planned)
    zones = _scope_zones(conn, str(settings.site), planned)
    wanted = tuple(levels)
    if zones is not None and "zone" not in wanted:  # the shares need them
        zone_rows = read_forecast_input(
            conn, start, end, levels=["zone"], settings=settings
        )
        series = pd.concat([series, zone_rows], ignore_index=True)
    p = ForecastParams(
        horizon_weeks=horizon_weeks,
        history_weeks=int(settings.forecast_history_weeks),
        half_life_weeks=settings.forecast_half_life_weeks,
    )
    fc, scores = forecast_all(
        series,
        grid[grid["day"] <= end].reset_index(drop=True),
        grid[grid["day"] > end].reset_index(drop=True),
        p,
        k=int(settings.k_anonymity),
        timezone=cal.timezone,
        planned=planned,
        zones=zones,
    )
    keep_fc, keep_sc = fc["level"].isin(wanted), scores["level"].isin(wanted)
    return fc[keep_fc].reset_index(drop=True), scores[keep_sc].reset_index(drop=True)


def _grid(
    cal: Calendar, settings: Settings, start: dt.date, last: dt.date
) -> pd.DataFrame:
    """:func:`analytics.forecast.hour_grid` of [start, last] in ``cal``."""
    closed = closed_days(str(settings.country), cal.holidays, start, last)
    school = school_holidays(str(settings.school_holiday_region), start, last)
    work = (cal.work_start.hour, cal.work_end.hour + (cal.work_end.minute > 0))
    return hour_grid(
        start,
        last,
        work_hours=work,
        weekdays=cal.working_weekdays,
        closed=closed,
        school=school,
    )


def read_planned_changes(conn: Connection, site: str) -> tuple[PlannedChange, ...]:
    """The planned changes of ``site``'s building file (``sites.planned_changes``)."""
    with conn.cursor() as cur:
        cur.execute("SELECT planned_changes FROM sites WHERE site_id = %s", (site,))
        row = cur.fetchone()
    return from_records(row[0]) if row else ()


def read_planned_in_force(
    conn: Connection,
    settings: Settings | None = None,
    given: Sequence[PlannedChange] = (),
) -> tuple[PlannedChange, ...]:
    """The planned changes a forecast uses: the building file's, the
    setting's, those ``given`` per run (:func:`_planned`), by date."""
    settings = settings_or_default(settings)
    return _planned(
        str(settings.forecast_planned_changes),
        given,
        read_planned_changes(conn, str(settings.site)),
    )


def _scope_zones(
    conn: Connection, site: str, planned: Sequence[PlannedChange]
) -> pd.DataFrame | None:
    """The site's zones (zone_id, floor_id, building_id, department_id of a
    neighbourhood) when a planned change names floors or departments, checked
    against them; None otherwise."""
    if not any(c.scoped for c in planned):
        return None
    _, zones = read_metadata(conn)
    if (zones["site_id"] == site).any():
        zones = zones[zones["site_id"] == site]
    zones = zones.assign(
        department_id=zones["department_id"].where(zones["kind"] == "neighbourhood")
    )
    try:
        check_scopes(planned, zones)
    except PlannedChangeError as exc:
        raise StoreError(str(exc)) from exc
    return zones.reset_index(drop=True)


def _planned(
    setting: str,
    given: Sequence[PlannedChange],
    in_file: Sequence[PlannedChange] = (),
) -> tuple[PlannedChange, ...]:
    """The planned changes of the building file (``in_file``), of the setting
    ``forecast_planned_changes`` (DATE:FACTOR, commas between) and those
    ``given`` per run: a change of the setting replaces every change of the
    file on its date, one given per run those of the file and the setting."""
    texts = [t for t in setting.replace(";", ",").split(",") if t.strip()]
    try:
        configured = parse_planned_changes(texts)
    except PlannedChangeError as exc:
        raise StoreError(f"setting forecast_planned_changes: {exc}") from exc
    dates = {c.start for c in configured}
    kept = [c for c in in_file if c.start not in dates] + list(configured)
    dates = {c.start for c in given}
    kept = [c for c in kept if c.start not in dates]
    return tuple(sorted([*kept, *given], key=lambda c: c.start))


# ----------------------------------------------------------------------- what-if
def read_desks(conn: Connection) -> pd.DataFrame:
    """Per zone: zone_id, floor_id, department_id (of a neighbourhood), desks
    (seats of its desks), rooms (its meeting rooms and other rooms)."""
    spaces, zones = read_metadata(conn)
    is_desk = spaces["kind"] == "desk"
    d = spaces[is_desk].groupby("zone_id")["capacity"].sum()
    r = spaces[~is_desk].groupby("zone_id").size()
    out = zones[["zone_id", "floor_id", "department_id", "kind"]].copy()
    out["department_id"] = out["department_id"].where(
        out["kind"] == "neighbourhood", None
    )
    out["desks"] = out["zone_id"].map(d).fillna(0).astype(int)
    out["rooms"] = out["zone_id"].map(r).fillna(0).astype(int)
    return out.drop(columns="kind").reset_index(drop=True)


def read_headcount(conn: Connection) -> dict[str, int]:
    """Department → headcount (the departments table)."""
    with conn.cursor() as cur:
        cur.execute("SELECT department_id, headcount FROM departments")
        return {str(a): int(b) for a, b in cur.fetchall()}


def read_demand(conn: Connection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Measured desk demand per local day, hour and department over [start,
    end] (working hours): the simultaneous peak of the department's desks in
    the hour (``peak_people`` of the department level). day, hour,
    department_id, people."""
    agg = read_level_agg(conn, start, end, "department", by_hour=True)
    return pd.DataFrame(
        {
            "day": agg["day"],
            "hour": agg["hour"].astype(int),
            "department_id": agg["level_id"].astype(str),
            "people": agg["peak_people"].astype(float),
        }
    )


def read_whatif(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    scenarios: list[Scenario],
    *,
    settings: Settings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scenario summaries of :func:`analytics.whatif.evaluate_all`, the
    measured desk-sharing table of :func:`analytics.store.read_desk_sharing`)
    over the demand of [start, end]."""
    settings = settings_or_default(settings)
    if end < start:
        raise StoreError(f"period ends {end} before it starts {start}")
    demand = read_demand(conn, start, end)
    if demand.empty:
        raise StoreError(f"no measured demand between {start} and {end}: run analyze")
    try:
        summary = evaluate_all(
            demand, read_desks(conn), scenarios, headcount=read_headcount(conn)
        )
    except ValueError as exc:
        raise StoreError(str(exc)) from exc
    return summary, read_desk_sharing(conn, start, end, settings=settings)


# ------------------------------------------------------------------ stacking plan
def read_zone_geometry(conn: Connection) -> pd.DataFrame:
    """zone_id, floor_id, kind, department_id, x, y, width, height [m]."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT zone_id, floor_id, kind, department_id, x, y, width, height"
            " FROM zones ORDER BY zone_id"
        )
        rows = cur.fetchall()
    return pd.DataFrame(
        rows,
        columns=[
            "zone_id",
            "floor_id",
            "kind",
            "department_id",
            "x",
            "y",
            "width",
            "height",
        ],
    )


def p90_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Per department: the p90 over days of its daily peak (linear
    interpolation). department_id, demand."""
    peak = demand.groupby(["department_id", "day"])["people"].max()
    p90 = peak.groupby(level="department_id").quantile(0.9)
    return pd.DataFrame(
        {"department_id": p90.index.astype(str), "demand": p90.to_numpy()}
    )


def lowest_lift_pairs(coloc: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` department pairs (a < b) with the lowest measured lift of the
    combined (``all``) co-location matrix; suppressed cells left out."""
    c = coloc[
        (coloc["source"] == "all")
        & (coloc["department_a"] < coloc["department_b"])
        & ~coloc["suppressed"].astype(bool)
        & coloc["lift"].notna()
    ]
    c = c.sort_values(["lift", "department_a", "department_b"]).head(n)
    return pd.DataFrame(
        {
            "department_a": c["department_a"].astype(str).to_numpy(),
            "department_b": c["department_b"].astype(str).to_numpy(),
            "weight": 1,
            "lift": c["lift"].to_numpy(float),
        }
    )


def read_stack(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    pairs: list[tuple[str, str]] | None = None,
    lowest: int = 3,
    params: StackParams | None = None,
    settings: Settings | None = None,
) -> StackResult:
    """The stacking plan from the measured demand of [start, end]: wanted
    ``pairs`` (or the ``lowest`` lift pairs of the co-location matrix)."""
    settings = settings_or_default(settings)
    demand = read_demand(conn, start, end)
    if demand.empty:
        raise StoreError(f"no measured demand between {start} and {end}: run analyze")
    geo = read_zone_geometry(conn)
    desks = read_desks(conn)
    hoods = desks[
        desks["zone_id"].isin(geo.loc[geo["kind"] == "neighbourhood", "zone_id"])
        & (desks["desks"] > 0)
    ][["zone_id", "floor_id", "desks"]]
    if pairs:
        wanted = pd.DataFrame(
            {
                "department_a": [a for a, _ in pairs],
                "department_b": [b for _, b in pairs],
            }
        ).assign(weight=1)
    else:
        wanted = lowest_lift_pairs(
            read_colocation(conn, start, end, settings=settings), lowest
        )
    current: dict[str, set[str]] = {}
    for z, d in zip(geo["zone_id"], geo["department_id"], strict=True):
        if d is not None and z in set(hoods["zone_id"]):
            current.setdefault(str(d), set()).add(str(z))
    try:
        return solve(
            hoods.reset_index(drop=True),
            p90_demand(demand),
            wanted,
            current,
            adjacent_neutral(geo),
            params or StackParams(),
        )
    except StackingError as exc:
        raise StoreError(str(exc)) from exc
