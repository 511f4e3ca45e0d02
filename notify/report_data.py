"""What the weekly report shows, read through the export reports (so every
figure in the PDF is one that ``occupancy export`` gives for the same week)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import pandas as pd

from analytics.api import Filters, build_report
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["ReportData", "ReportDataError", "gather", "parse_week"]


class ReportDataError(ValueError):
    """Bad week or building; the message names it."""


def parse_week(text: str | None, today: dt.date | None = None) -> dt.date:
    """The Monday of ISO week ``2026-W45``, of the week holding a date
    (``2026-11-04``), or of last week when ``text`` is None."""
    if text is None:
        today = today or dt.date.today()
        return today - dt.timedelta(days=today.weekday() + 7)
    m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), re.I)
    try:
        if m:
            return dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        day = dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ReportDataError(f"--week {text!r}: {exc}") from exc
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class ReportData:
    building: str
    building_name: str
    monday: dt.date
    headline: pd.DataFrame  # utilization, level building, this week
    headline_last: pd.DataFrame  # the same, last week
    floors: pd.DataFrame  # utilization per floor, this week
    floors_last: pd.DataFrame
    spaces: pd.DataFrame  # utilization per space, this week
    rooms: pd.DataFrame  # rooms report
    colocation: pd.DataFrame  # matrix, unsuppressed off-diagonal cells, source all
    devices: pd.DataFrame
    profile: pd.DataFrame  # hour-of-week, building level
    target_low: float
    target_high: float


def _week(
    conn: Connection,
    report: str,
    monday: dt.date,
    f: Filters,
    s: Settings,
    level: str | None,
) -> pd.DataFrame:
    return build_report(conn, report, monday, monday + dt.timedelta(days=6),
                        level=level, filters=f, settings=s)  # fmt: skip


def gather(
    conn: Connection, building: str, monday: dt.date, settings: Settings
) -> ReportData:
    with conn.cursor() as cur:
        cur.execute("SELECT name FROM buildings WHERE building_id = %s", (building,))
        row = cur.fetchone()
        if row is None:
            cur.execute("SELECT building_id FROM buildings ORDER BY 1")
            known = ", ".join(r[0] for r in cur.fetchall())
            raise ReportDataError(
                f"--building {building!r}: unknown; buildings: {known}"
            )
    f = Filters(site=settings.site, building=building)
    last = monday - dt.timedelta(days=7)
    coloc = _week(conn, "colocation", monday, f, settings, "matrix")
    coloc = coloc[(coloc["source"] == "all") & ~coloc["suppressed"].astype(bool)
                  & (coloc["department_a"] < coloc["department_b"])]  # fmt: skip
    return ReportData(
        building=building,
        building_name=str(row[0]),
        monday=monday,
        headline=_week(conn, "utilization", monday, f, settings, "building"),
        headline_last=_week(conn, "utilization", last, f, settings, "building"),
        floors=_week(conn, "utilization", monday, f, settings, "floor"),
        floors_last=_week(conn, "utilization", last, f, settings, "floor"),
        spaces=_week(conn, "utilization", monday, f, settings, "space"),
        rooms=_week(conn, "rooms", monday, f, settings, "room"),
        colocation=coloc.sort_values("lift", ascending=False, na_position="last"),
        devices=_week(conn, "devices", monday, f, settings, None),
        profile=_week(conn, "hour-of-week", monday, f, settings, "building"),
        target_low=settings.target_low_pct,
        target_high=settings.target_high_pct,
    )
