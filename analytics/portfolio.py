"""The portfolio: every building side by side, ranked, with its trend and
its yearly cost per used desk.

Built from the rollup tables ``occupancy analyze`` wrote, each building over
its own site's local days (the ``day`` of a rollup row is the local day of
the site it belongs to):

* occupancy from ``analytics_level_hourly`` (level ``building``): time used,
  utilization, average daily peak of people, used desks (average daily peak
  of occupied desks), desks per present person;
* meeting-room fit from ``analytics_room_headcount``: seats used while a room
  is occupied, and the share of occupied time at half the seats or fewer;
* cross-department mixing from the released department mix of shared zones
  (:func:`analytics.read_diversity.read_diversity`: whole ISO weeks only,
  departments under k people pooled, zones under k people suppressed);
* the trend: utilization now minus utilization over the period of equal
  length just before (percentage points), and :func:`read_portfolio_weekly`.

The cost per used desk is the building's yearly cost (``cost_per_desk_year``
× desks when the building file gives it, else ``cost_per_m2_year`` ×
``area_m2``) divided by its used desks. docs/analytics.md, docs/building.md.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from analytics.copy_io import copy_out
from analytics.db_io import read_metadata
from analytics.filters import Filters
from analytics.privacy import protect_assigned
from analytics.read_common import (
    read_level_agg,
    settings_or_default,
    working_hours_only,
)
from analytics.read_diversity import read_diversity
from analytics.report_spec import Column as C
from analytics.report_spec import ReportSpec
from analytics.utilization import pct
from occupancy.db import Connection, read_frame
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "PORTFOLIO_COLUMNS",
    "PORTFOLIO_REPORT",
    "RANK_BY",
    "portfolio_measures",
    "read_portfolio",
    "read_portfolio_weekly",
]

#: The report's columns at its building level (the week level reuses them).
_BUILDING_COLUMNS: tuple[C, ...] = (
    C("rank", "rank by utilization (1 = best used)"),
    C("building_id", "building"),
    C("name", "building name"),
    C("site_id", "site of the building"),
    C("timezone", "the site's time zone (its local days and working hours)"),
    C("desks", "desks in the building file", "desks"),
    C("rooms", "meeting rooms, focus rooms and booths", "rooms"),
    C("days", "local days with data in the range", "days"),
    C("time_used_pct", "occupied time ÷ measured time, all desks and rooms", "%"),
    C("utilization_pct", "time-weighted people ÷ seats over measured time", "%"),
    C(
        "avg_daily_peak",
        "mean over days of the day's most people at once",
        "people",
    ),
    C(
        "used_desks",
        "mean over days of the day's most desks occupied at once",
        "desks",
    ),
    C("desks_per_person", "desks ÷ average daily peak of people", "desks/person"),
    C("room_fit_pct", "people ÷ seats while a room is occupied", "%"),
    C(
        "rooms_half_empty_pct",
        "occupied room time with half the seats or fewer used",
        "%",
    ),
    C(
        "mixing",
        "department mix in shared zones (Gini-Simpson 0-1, released weeks)",
        "0-1",
    ),
    C("mixing_suppressed", "no shared zone's mix released (k people, whole weeks)"),
    C(
        "yearly_cost",
        "cost_per_desk_year × desks, else cost_per_m2_year × area_m2",
        "EUR/year",
    ),
    C("cost_per_used_desk", "yearly cost ÷ used desks", "EUR/year"),
    C(
        "prev_utilization_pct",
        "utilization over the period of equal length before",
        "%",
    ),
    C("trend_pp", "utilization now − before", "percentage points"),
    C("suppressed", "the building's figures hidden by the assigned-desk rule"),
)
_BY_NAME = {c.name: c for c in _BUILDING_COLUMNS}

PORTFOLIO_REPORT = ReportSpec(
    "portfolio",
    "Every building side by side over the range (its site's local days), ranked "
    "by utilization, with the trend against the period of equal length before.",
    _BUILDING_COLUMNS,
    ("rank", "building_id"),
    levels=("building", "week"),
    default_level="building",
    level_columns={
        "week": (
            C("week", "local date of the week's Monday"),
            *(_BY_NAME[n] for n in ("building_id", "name", "site_id")),
            C("days", "local days with data in the week and the range", "days"),
            *(
                _BY_NAME[n]
                for n in (
                    "time_used_pct",
                    "utilization_pct",
                    "avg_daily_peak",
                    "used_desks",
                    "suppressed",
                )
            ),
        )
    },
)
PORTFOLIO_COLUMNS: tuple[str, ...] = tuple(c.name for c in PORTFOLIO_REPORT.columns)

RANK_BY = ("utilization_pct", "time_used_pct", "cost_per_used_desk", "mixing")


def _buildings(conn: Connection) -> pd.DataFrame:
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT b.building_id, b.name, b.site_id, s.timezone, b.area_m2,
                  b.cost_per_m2_year, b.cost_per_desk_year
             FROM buildings b JOIN sites s USING (site_id) ORDER BY b.building_id""",
    )
    for col in ("area_m2", "cost_per_m2_year", "cost_per_desk_year"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def portfolio_measures(agg: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per building (``level_id``, and the columns ``by``) from its per-day
    level aggregates (:func:`analytics.read_common.read_level_agg` rows):
    days, time_used_pct, utilization_pct, avg_daily_peak, used_desks."""
    cols = [*by, "building_id", "days", "time_used_pct", "utilization_pct",
            "avg_daily_peak", "used_desks"]  # fmt: skip
    if agg.empty:
        return pd.DataFrame(columns=cols)
    g = agg.groupby([*by, "level_id"])
    s = g.agg(
        days=("day", "nunique"),
        occupied_s=("occupied_s", "sum"),
        measured_s=("measured_s", "sum"),
        people_s=("people_s", "sum"),
        capacity_s=("capacity_s", "sum"),
        avg_daily_peak=("peak_people", "mean"),
        used_desks=("peak_desks_occupied", "mean"),
    )
    s["time_used_pct"] = pct(s["occupied_s"], s["measured_s"])
    s["utilization_pct"] = pct(s["people_s"], s["capacity_s"])
    s = s.reset_index().rename(columns={"level_id": "building_id"})
    return s[cols]


def _room_fit(
    conn: Connection, start: dt.date, end: dt.date, spaces: pd.DataFrame
) -> pd.DataFrame:
    """Per building: room_fit_pct and rooms_half_empty_pct over occupied room time."""
    hc = copy_out(
        conn,
        """SELECT space_id, people, sum(seconds) AS seconds
             FROM analytics_room_headcount
            WHERE day BETWEEN %s AND %s AND people > 0 GROUP BY space_id, people""",
        (start, end),
    )
    cols = ["building_id", "room_fit_pct", "rooms_half_empty_pct"]
    if hc.empty:
        return pd.DataFrame(columns=cols)
    rooms = spaces.loc[
        spaces["kind"] != "desk", ["space_id", "capacity", "building_id"]
    ]
    hc = hc.astype({"space_id": str}).merge(rooms, on="space_id")
    s = hc["seconds"].astype(float)
    cap = hc["capacity"].astype(float)
    frame = pd.DataFrame(
        {
            "building_id": hc["building_id"],
            "people_s": hc["people"].astype(float) * s,
            "seats_s": cap * s,
            "half_s": s.where(hc["people"].astype(float) <= cap / 2.0, 0.0),
            "s": s,
        }
    )
    g = frame.groupby("building_id").sum()
    out = pd.DataFrame(
        {
            "room_fit_pct": pct(g["people_s"], g["seats_s"]),
            "rooms_half_empty_pct": pct(g["half_s"], g["s"]),
        }
    )
    return out.rename_axis("building_id").reset_index()[cols]


def _mixing(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    zones: pd.DataFrame,
    settings: Settings,
    today: dt.date | None,
) -> pd.DataFrame:
    """Per building with a shared zone: the people-weighted mean Gini-Simpson
    index of its shared zones whose mix was released; suppressed when none."""
    div = read_diversity(conn, start, end, settings=settings, today=today)
    cols = ["building_id", "mixing", "mixing_suppressed"]
    if div.empty:
        return pd.DataFrame(columns=cols)
    d = div.merge(zones[["zone_id", "building_id"]], on="zone_id")
    ok = ~d["suppressed"].astype(bool) & d["simpson"].notna()
    w = d["people"].astype(float).where(ok, 0.0)
    num = (d["simpson"].astype(float).fillna(0.0) * w).groupby(d["building_id"]).sum()
    den = w.groupby(d["building_id"]).sum()
    mixing = (num / den.where(den > 0)).rename("mixing")
    out = mixing.rename_axis("building_id").reset_index()
    out["mixing_suppressed"] = out["mixing"].isna()
    return out[cols]


def _costs(frame: pd.DataFrame) -> pd.DataFrame:
    """yearly_cost and cost_per_used_desk (NaN without a cost or used desk)."""
    per_desk = frame["cost_per_desk_year"] * frame["desks"].astype(float)
    per_m2 = frame["cost_per_m2_year"] * frame["area_m2"]
    yearly = per_desk.where(frame["cost_per_desk_year"].notna(), per_m2)
    used = frame["used_desks"].astype(float)
    return frame.assign(
        yearly_cost=yearly,
        cost_per_used_desk=yearly / used.where(used > 0),
    )


def _rank(frame: pd.DataFrame, by: str) -> pd.Series:
    if by not in RANK_BY:
        raise ValueError(f"rank_by {by!r}: use one of {', '.join(RANK_BY)}")
    ascending = by == "cost_per_used_desk"  # the cheapest used desk first
    r = frame[by].astype(float).rank(ascending=ascending, method="min")
    return r.astype("Int64")


def read_portfolio(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
    rank_by: str = "utilization_pct",
    today: dt.date | None = None,
) -> pd.DataFrame:
    """One row per building of every site over local days [start, end] (each
    site's own days and working hours), ranked by ``rank_by`` (``RANK_BY``;
    1 = best: the highest figure, or the cheapest used desk). ``filters``:
    only ``working_hours_only`` applies (a portfolio spans sites). Columns:
    :data:`PORTFOLIO_COLUMNS`; a building of fewer than k desks holding an
    assigned desk comes back suppressed (analytics.privacy)."""
    settings = settings_or_default(settings)
    wh = working_hours_only(filters)
    n = dt.timedelta(days=(end - start).days + 1)
    agg = read_level_agg(conn, start - n, end, "building", working_hours_only=wh)
    now = agg[agg["day"] >= start] if len(agg) else agg
    before = agg[agg["day"] < start] if len(agg) else agg
    spaces, zones = read_metadata(conn)
    frame = _buildings(conn)
    kinds = spaces.groupby("building_id")["kind"]
    frame["desks"] = frame["building_id"].map(kinds.agg(lambda k: (k == "desk").sum()))
    frame["rooms"] = frame["building_id"].map(kinds.agg(lambda k: (k != "desk").sum()))
    frame[["desks", "rooms"]] = frame[["desks", "rooms"]].fillna(0).astype(np.int64)
    prev = portfolio_measures(before)[["building_id", "utilization_pct"]]
    frame = (
        frame.merge(portfolio_measures(now), on="building_id", how="left")
        .merge(prev.rename(columns={"utilization_pct": "prev_utilization_pct"}),
               on="building_id", how="left")
        .merge(_room_fit(conn, start, end, spaces), on="building_id", how="left")
        .merge(_mixing(conn, start, end, zones, settings, today), on="building_id",
               how="left")
    )  # fmt: skip
    frame["days"] = (
        pd.to_numeric(frame["days"], errors="coerce").fillna(0).astype(np.int64)
    )
    peak = frame["avg_daily_peak"].astype(float)
    frame["desks_per_person"] = frame["desks"] / peak.where(peak > 0)
    frame["trend_pp"] = frame["utilization_pct"] - frame["prev_utilization_pct"]
    frame["mixing_suppressed"] = frame["mixing_suppressed"].eq(True)
    frame = _costs(frame)
    frame["rank"] = _rank(frame, rank_by)
    guarded = protect_assigned(
        frame.assign(level="building", level_id=frame["building_id"]),
        spaces,
        int(settings.k_anonymity),
    )
    if "suppressed" not in guarded.columns:
        guarded["suppressed"] = False
    out = guarded[list(PORTFOLIO_COLUMNS)]
    return out.sort_values(["rank", "building_id"], na_position="last").reset_index(
        drop=True
    )


def read_portfolio_weekly(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Per building and local week (its Monday) touching [start, end], only
    the days inside the range: the columns of the report's ``week`` level
    (the trend as a series), with the assigned-desk rule of
    :func:`read_portfolio`."""
    settings = settings_or_default(settings)
    agg = read_level_agg(
        conn, start, end, "building", working_hours_only=working_hours_only(filters)
    )
    cols = list(PORTFOLIO_REPORT.names("week"))
    if agg.empty:
        return pd.DataFrame(columns=cols)
    day = pd.to_datetime(agg["day"])
    week = (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date
    out = portfolio_measures(agg.assign(week=week), by=("week",))
    names = _buildings(conn)[["building_id", "name", "site_id"]]
    out = out.merge(names, on="building_id", how="left")
    out["days"] = pd.to_numeric(out["days"], errors="coerce").fillna(0)
    out["days"] = out["days"].astype(np.int64)
    spaces, _ = read_metadata(conn)
    guarded = protect_assigned(
        out.assign(level="building", level_id=out["building_id"]),
        spaces,
        int(settings.k_anonymity),
    )
    if "suppressed" not in guarded.columns:
        guarded["suppressed"] = False
    guarded["suppressed"] = guarded["suppressed"].eq(True)
    return guarded[cols].sort_values(["building_id", "week"]).reset_index(drop=True)
