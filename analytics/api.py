"""The typed read API of analytics: everything the dashboard (or another reader
of the rollups) may import from this package, and nothing else
(``.importlinter``: the dashboard imports ``analytics.api`` only).

Every ``read_*`` takes ``(conn, start, end, *, filters=..., settings=...)`` with
``start``/``end`` local dates, both included, and returns a frame that is
k-suppressed where it describes people (docs/analytics.md). A renamed or
removed function here is an import or type error in CI, not an empty panel.
"""

from __future__ import annotations

from analytics.filters import Filters
from analytics.read_colocation import read_colocation, read_colocation_trend
from analytics.read_diversity import read_diversity, read_diversity_weekly
from analytics.read_levels import (
    read_day_of_week,
    read_dept_presence,
    read_hour_of_week,
    read_space_agg,
    read_space_hourly,
    read_utilization,
    read_weekly_trend,
)
from analytics.read_rooms import (
    live_state,
    read_department_no_show,
    read_desk_sharing,
    read_devices_report,
    read_room_sizing,
    read_sessions,
)
from analytics.reports import (
    REPORTS,
    Column,
    ReportError,
    ReportSpec,
    build_report,
    write_report,
)
from occupancy.db import Connection

__all__ = [
    "REPORTS",
    "Column",
    "Connection",
    "Filters",
    "ReportError",
    "ReportSpec",
    "build_report",
    "live_state",
    "read_colocation",
    "read_colocation_trend",
    "read_day_of_week",
    "read_department_no_show",
    "read_dept_presence",
    "read_desk_sharing",
    "read_devices_report",
    "read_diversity",
    "read_diversity_weekly",
    "read_hour_of_week",
    "read_room_sizing",
    "read_sessions",
    "read_space_agg",
    "read_space_hourly",
    "read_utilization",
    "read_weekly_trend",
    "write_report",
]
