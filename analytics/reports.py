"""Exports: the reports of ``occupancy export`` and the dashboard's export page.

``REPORTS`` names every report with its ordered, documented columns;
:func:`build_report` returns exactly the frame ``occupancy export`` writes
(k-suppressed, stable order) and :func:`write_report` writes it as CSV (ISO
timestamps with offset, spreadsheet formulas neutralized) or Parquet.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd

from analytics import store
from analytics.filters import Filters
from analytics.intervals import read_intervals
from analytics.portfolio import (
    PORTFOLIO_REPORT,
    read_portfolio,
    read_portfolio_weekly,
)
from analytics.report_spec import Column, ReportSpec
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "REPORTS",
    "Column",
    "Filters",
    "ReportError",
    "ReportSpec",
    "build_report",
    "neutralize",
    "write_report",
]


class ReportError(ValueError):
    """Unknown report, level or format; the message names it."""


C = Column

_UTIL = (
    C("level", "space, room, zone, floor, building or department"),
    C("level_id", "id of the space or group"),
    C("kind", "space kind (desk, meeting_room, ...) for spaces; empty for groups"),
    C("capacity", "seats of the space or group", "seats"),
    C("spaces", "sensed spaces in the group", "spaces"),
    C("time_used_pct", "occupied time ÷ measured available time", "%"),
    C("utilization_pct", "time-weighted people ÷ capacity over measured time", "%"),
    C("avg_people", "time-weighted mean head count over available time", "people"),
    C("peak_people", "largest simultaneous head count", "people"),
    C("avg_daily_peak", "mean over days of each day's peak", "people"),
    C("peak_utilization_pct", "peak_people ÷ capacity", "%"),
    C("avg_daily_peak_pct", "avg_daily_peak ÷ capacity", "%"),
    C("surplus_desks", "fewest desks vacant at the same time", "desks"),
    C(
        "free_desks_at_peak",
        "desks × free_desk_factor − occupied desks at peak",
        "desks",
    ),
    C("dwell_s", "occupied time ÷ sessions (spaces only)", "s"),
    C("days_used", "days above the minimum-use threshold (spaces only)", "days"),
    C("no_data_pct", "available time without a known state", "%"),
    C("band", "target band of utilization_pct: under, optimal, over"),
    C(
        "suppressed",
        "true for a desk assigned to one person, or a group of fewer than k "
        "desks that holds one: values removed",
    ),
)

REPORTS: dict[str, ReportSpec] = {
    "sessions": ReportSpec(
        "sessions",
        "Per space and local day: occupied sessions and dwell within available time.",
        (
            C("day", "local date"),
            C("space_id", "desk or room"),
            C("kind", "desk, meeting_room, focus_room, phone_booth"),
            C("zone_id", "zone of the space"),
            C("floor_id", "floor of the space"),
            C("sessions", "occupied sessions touching available time", "sessions"),
            C("occupied_s", "occupied available time", "s"),
            C("dwell_s", "occupied_s ÷ sessions", "s"),
            C("measured_s", "available time with a known state", "s"),
            C("available_s", "available time of the day", "s"),
            C("hours_used", "hours above the minimum-use threshold", "hours"),
            C("used_day", "day above the minimum-use threshold"),
            C("stuck_s", "available time excluded as stuck sensor", "s"),
            C(
                "suppressed",
                "true for a desk assigned to one person, or a group of fewer than k "
                "desks that holds one: values removed",
            ),
        ),
        ("day", "space_id"),
    ),
    "utilization": ReportSpec(
        "utilization",
        "Time used, utilization, peaks, surplus and target band per space or group.",
        _UTIL,
        ("level", "level_id"),
        levels=("space", "room", "zone", "floor", "building", "department"),
        default_level="floor",
    ),
    "hour-of-week": ReportSpec(
        "hour-of-week",
        "Hour-of-week profile per space or group over the weeks in range (local time).",
        (
            C("level", "space, zone, floor, building, department or room"),
            C("level_id", "space or group id"),
            C("weekday", "0 = Monday … 6 = Sunday"),
            C("hour", "local hour 0-23"),
            C("weeks", "weeks with data", "weeks"),
            C("people_mean", "mean over weeks of the hour's mean head count", "people"),
            C("people_median", "median over weeks", "people"),
            C("people_p90", "90th percentile over weeks", "people"),
            C("people_max", "maximum over weeks", "people"),
            C("utilization_pct", "mean over weeks of people ÷ capacity", "%"),
            C("utilization_p90_pct", "90th percentile over weeks", "%"),
            C("utilization_max_pct", "maximum over weeks", "%"),
            C("peak_people", "largest simultaneous head count in that hour", "people"),
            C(
                "suppressed",
                "true for a desk assigned to one person, or a group of fewer than k "
                "desks that holds one: values removed",
            ),
        ),
        ("level", "level_id", "weekday", "hour"),
        levels=("space", "zone", "floor", "building", "department", "room"),
        default_level="floor",
    ),
    "rooms": ReportSpec(
        "rooms",
        "Meeting rooms: head count while occupied vs seats, right-sizing, bookings.",
        (
            C("space_id", "room"),
            C("kind", "meeting_room, focus_room, phone_booth"),
            C("zone_id", "zone"),
            C("floor_id", "floor"),
            C("seats", "capacity", "seats"),
            C("occupied_s", "occupied available time", "s"),
            C("mean_people", "time-weighted mean head count while occupied", "people"),
            C("median_people", "time-weighted median while occupied", "people"),
            C("p90_people", "time-weighted 90th percentile while occupied", "people"),
            C("max_people", "largest head count", "people"),
            C(
                "half_or_less_pct",
                "occupied time with at most half the seats used",
                "%",
            ),
            C("single_person_pct", "occupied time with one person", "%"),
            C("recommended_seats", "ceil(p90_people × 1.2), at least 1", "seats"),
            C("seats_change", "recommended_seats − seats", "seats"),
            C("verdict", "too_big, right or too_small"),
            C("bookings", "imported bookings in range", "bookings"),
            C("booked_s", "booked measured time", "s"),
            C("no_show_pct", "booked time without sensed presence ÷ booked time", "%"),
            C(
                "unbooked_use_pct",
                "occupied time outside bookings ÷ occupied time",
                "%",
            ),
        ),
        ("space_id",),
        levels=("room", "department"),
        default_level="room",
        level_columns={
            "department": (
                C("department_id", "organiser department of the bookings"),
                C("bookings", "its bookings in range", "bookings"),
                C("booked_s", "booked measured time", "s"),
                C("no_show_s", "booked time without sensed presence", "s"),
                C("no_show_pct", "no_show_s ÷ booked_s", "%"),
                C(
                    "suppressed",
                    "true when fewer than k bookings or k members: values removed",
                ),
            ),
        },
    ),
    "colocation": ReportSpec(
        "colocation",
        "Department × department co-presence per source and combined, with lift; k-suppressed.",
        (
            C("source", "neighbourhood, meeting, shared, or all"),
            C("department_a", "department"),
            C("department_b", "department"),
            C("minutes", "minutes both present in the same zone", "min"),
            C("people_a", "distinct people of department_a behind the cell", "people"),
            C("people_b", "distinct people of department_b behind the cell", "people"),
            C(
                "expected_minutes",
                "co-presence expected if presence were independent",
                "min",
            ),
            C("lift", "minutes ÷ expected_minutes (empty on the diagonal)"),
            C(
                "suppressed",
                "true when fewer than k people of either department: values removed",
            ),
        ),
        ("source", "department_a", "department_b"),
        levels=("matrix", "diversity", "trend"),
        default_level="matrix",
        level_columns={
            "diversity": (
                C("zone_id", "shared zone"),
                C("departments", "departments seen", "departments"),
                C("people", "distinct people", "people"),
                C("simpson", "1 − Σ share² of departments' people-minutes"),
                C("shannon", "−Σ share·ln(share)"),
                C("suppressed", "true when fewer than k people"),
            ),
            "trend": (
                C("week", "local date of the week's Monday"),
                C("source", "all"),
                C("department_a", "department"),
                C("department_b", "department"),
                C("minutes", "minutes both present", "min"),
                C("people_a", "distinct people of department_a", "people"),
                C("people_b", "distinct people of department_b", "people"),
                C("expected_minutes", "expected under independence", "min"),
                C("lift", "minutes ÷ expected_minutes"),
                C("suppressed", "true when fewer than k people of either department"),
            ),
        },
    ),
    "devices": ReportSpec(
        "devices",
        "Devices: health and data quality over the range.",
        (
            C("device_id", "device"),
            C("kind", "desk_sensor, room_counter, zone_counter, ble_scanner"),
            C("family", "message format family"),
            C("space_id", "desk or room covered"),
            C("zone_id", "zone covered"),
            C("assigned", "named in the building file"),
            C("last_seen", "last message (UTC, ISO with offset)"),
            C("battery_pct", "last battery level", "%"),
            C("online", "last availability"),
            C("no_data_pct", "available time of its space without a known state", "%"),
            C("stuck_s", "available time excluded as stuck", "s"),
        ),
        ("device_id",),
    ),
    "intervals": ReportSpec(
        "intervals",
        "Every state interval of every space after the analytics' rules (gap bridging, stuck sensors, heartbeat timeout), every hour of the day.",
        (
            C("space_id", "desk or room"),
            C("kind", "desk, meeting_room, focus_room, phone_booth"),
            C("zone_id", "zone of the space"),
            C("floor_id", "floor of the space"),
            C("start", "interval start (UTC, ISO with offset), included"),
            C("end", "interval end (UTC, ISO with offset), excluded"),
            C("state", "occupied, vacant or unknown"),
            C(
                "people",
                "head count of counters (empty for presence sensors)",
                "people",
            ),
        ),
        ("space_id", "start"),
    ),
    "portfolio": PORTFOLIO_REPORT,
}


def _utilization(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    level: str,
    filters: Filters | None,
    settings: Settings,
) -> pd.DataFrame:
    frame = store.read_utilization(
        conn, start, end, level=level, filters=filters, settings=settings
    )
    if level == "space":
        frame = frame.assign(level="space", level_id=frame["space_id"], spaces=1)
    else:
        frame = frame.assign(kind=None, dwell_s=float("nan"), days_used=float("nan"))
    return frame


def _colocation(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    level: str,
    filters: Filters | None,
    settings: Settings,
) -> pd.DataFrame:
    if level == "diversity":
        return store.read_diversity(
            conn, start, end, filters=filters, settings=settings
        )
    if level == "trend":
        return store.read_colocation_trend(
            conn, start, end, filters=filters, settings=settings
        )
    return store.read_colocation(conn, start, end, filters=filters, settings=settings)


_BUILDERS: dict[str, Callable[[Any, dt.date, dt.date, str, Any, Any], pd.DataFrame]] = {
    "sessions": lambda c, a, b, lv, f, s: store.read_sessions(
        c, a, b, filters=f, settings=s
    ),
    "utilization": _utilization,
    "hour-of-week": lambda c, a, b, lv, f, s: store.read_hour_of_week(
        c, a, b, level=lv, filters=f, settings=s
    ),
    "rooms": lambda c, a, b, lv, f, s: (
        store.read_department_no_show(c, a, b, filters=f, settings=s)
        if lv == "department"
        else store.read_room_sizing(c, a, b, filters=f, settings=s)
    ),
    "colocation": _colocation,
    "devices": lambda c, a, b, lv, f, s: store.read_devices_report(
        c, a, b, filters=f, settings=s
    ),
    "intervals": lambda c, a, b, lv, f, s: read_intervals(
        c, a, b, filters=f, settings=s
    ),
    "portfolio": lambda c, a, b, lv, f, s: (
        read_portfolio_weekly(c, a, b, filters=f, settings=s)
        if lv == "week"
        else read_portfolio(c, a, b, filters=f, settings=s)
    ),
}


def build_report(
    conn: Connection,
    name: str,
    start: dt.date,
    end: dt.date,
    *,
    level: str | None = None,
    filters: Filters | None = None,
    settings: Settings | None = None,
    rollup: bool = False,
) -> pd.DataFrame:
    """The report ``name`` over local dates [start, end] (both included):
    exactly the documented columns in order, stable row order, k-suppressed.
    ``rollup``: departments one level up their hierarchy (analytics.rollup)."""
    if name not in REPORTS:
        raise ReportError(f"unknown report {name!r}: use one of {', '.join(REPORTS)}")
    spec = REPORTS[name]
    if level is not None and spec.levels and level not in spec.levels:
        raise ReportError(
            f"report {name}: unknown level {level!r}: use one of {', '.join(spec.levels)}"
        )
    if level is not None and not spec.levels:
        raise ReportError(f"report {name} has no levels (got --level {level})")
    if end < start:
        raise ReportError(f"report {name}: --to {end} is before --from {start}")
    lv = level or spec.default_level or ""
    settings = store.settings_or_default(settings)
    frame = _BUILDERS[name](conn, start, end, lv, filters, settings)
    if rollup:
        from analytics.rollup import read_department_parents, rollup_departments

        k = int(settings.k_anonymity)
        frame = rollup_departments(frame, read_department_parents(conn), k)
    cols = spec.names(lv)
    if "suppressed" in cols and "suppressed" not in frame.columns:
        frame["suppressed"] = False  # no row hidden by any rule
    for c in cols:
        if c not in frame.columns:
            frame[c] = None
    frame = frame[cols]
    sort = [
        c
        for c in ([*spec.sort] if lv not in spec.level_columns else cols[:4])
        if c in cols
    ]
    if len(frame):
        frame = frame.sort_values(sort, kind="stable")
    return frame.reset_index(drop=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """A string cell that a spreadsheet would run as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.map(lambda t: t.isoformat() if pd.notna(t) else "")
        elif s.dtype == object:
            out[col] = s.map(
                lambda v: (
                    v.isoformat()
                    if isinstance(v, (dt.datetime, dt.date, pd.Timestamp))
                    else neutralize(v)
                )
            )
    return out


def write_report(frame: pd.DataFrame, fmt: str, out: str | Path | IO[bytes]) -> None:
    """Write ``frame`` as ``csv`` (UTF-8, header, ISO timestamps with offset,
    formula cells neutralized) or ``parquet`` to a path or binary file."""
    if fmt == "csv":
        text = _csv_frame(frame).to_csv(index=False, lineterminator="\r\n")
        data = text.encode("utf-8")
        if isinstance(out, (str, Path)):
            Path(out).write_bytes(data)
        else:
            out.write(data)
    elif fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        if isinstance(out, (str, Path)):
            Path(out).write_bytes(buf.getvalue())
        else:
            out.write(buf.getvalue())
    else:
        raise ReportError(f"format {fmt!r}: use csv or parquet")
