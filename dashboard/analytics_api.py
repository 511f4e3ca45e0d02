"""The one place the dashboard calls the analytics package's public API.

Every historic view goes through here: ``analytics.reports`` (``REPORTS``,
``Filters``, ``build_report``, ``write_report``) and ``analytics.store`` (the
``read_*`` helpers and ``live_state``). Their frames are already k-suppressed
where they describe people; the dashboard never aggregates raw events itself.
A missing module or function raises
:class:`~dashboard.data.AnalyticsUnavailable`, which pages turn into an empty
state that says so.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import pandas as pd

from dashboard.data import DashboardData
from dashboard.filters import ViewFilters

logger = logging.getLogger(__name__)

__all__ = [
    "analytics_filters",
    "build_report",
    "call",
    "live_state",
    "report_csv",
    "report_levels",
]


def analytics_filters(data: DashboardData, f: ViewFilters) -> Any:
    """The analytics ``Filters`` for the view's filters."""
    cls = data.analytics("reports", "Filters")
    return cls(
        site=f.site,
        building=f.building,
        floor=f.floor,
        zone=f.zone,
        department=f.department,
        working_hours_only=f.working_hours_only,
    )


def call(data: DashboardData, name: str, f: ViewFilters, **kwargs: Any) -> pd.DataFrame:
    """``analytics.store.<name>(conn, start, end, filters=..., settings=..., **kwargs)``
    over the view's local dates (both included); reused until the next
    ``occupancy analyze`` (see :meth:`DashboardData.cached`)."""
    func = data.analytics("store", name)
    filters = analytics_filters(data, f)

    def compute() -> pd.DataFrame:
        with data.connection() as conn:
            frame: pd.DataFrame = func(
                conn, f.start, f.end, filters=filters, settings=data.settings, **kwargs
            )
        return frame

    key = ("store", name, f.start, f.end, filters, tuple(sorted(kwargs.items())))
    return data.cached(key, compute)


def live_state(data: DashboardData, now: dt.datetime) -> pd.DataFrame:
    """Current state of every sensed space: space_id, kind, floor_id, state
    (occupied, free, unknown), people, ts."""
    func = data.analytics("store", "live_state")
    with data.connection() as conn:
        frame: pd.DataFrame = func(conn, now, settings=data.settings)
    return frame


def report_levels(data: DashboardData) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Every ``occupancy export`` report: name -> (levels, default level)."""
    reports = data.analytics("reports", "REPORTS")
    return {
        name: (tuple(spec.levels), spec.default_level) for name, spec in reports.items()
    }


def build_report(
    data: DashboardData, name: str, f: ViewFilters, *, level: str | None = None
) -> pd.DataFrame:
    """The exact frame ``occupancy export`` writes for these filters."""
    func = data.analytics("reports", "build_report")
    filters = analytics_filters(data, f)

    def compute() -> pd.DataFrame:
        with data.connection() as conn:
            frame: pd.DataFrame = func(
                conn,
                name,
                f.start,
                f.end,
                level=level,
                filters=filters,
                settings=data.settings,
            )
        return frame

    return data.cached(("report", name, level, f.start, f.end, filters), compute)


def report_csv(data: DashboardData, frame: pd.DataFrame) -> bytes:
    """``frame`` as the CSV bytes ``occupancy export --format csv`` writes."""
    write = data.analytics("reports", "write_report")
    buf = io.BytesIO()
    write(frame, "csv", buf)
    return buf.getvalue()
