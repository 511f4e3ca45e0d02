"""The typed read API of analytics: everything the dashboard (or another reader
of the rollups) may import from this package, and nothing else
(``.importlinter``: the dashboard imports ``analytics.api`` only).

Every ``read_*`` takes ``(conn, start, end, *, filters=..., settings=...)`` with
``start``/``end`` local dates, both included, and returns a frame that is
k-suppressed where it describes people (docs/analytics.md). A renamed or
removed function here is an import or type error in CI, not an empty panel.
"""

from __future__ import annotations

from analytics.db_io import StoreError, read_metadata, site_timezone
from analytics.filters import Filters
from analytics.live import LIVE_COLUMNS, read_live
from analytics.plan_io import (
    read_desks,
    read_forecast,
    read_forecast_input,
    read_planned_in_force,
    read_stack,
    read_whatif,
)
from analytics.plan_io_coloc import read_intervention, read_scorecard, read_zone_weeks
from analytics.plan_reports import (
    PLAN_REPORTS,
    PlanOptionError,
    plan_report,
    scenarios_from,
)
from analytics.portfolio import (
    PORTFOLIO_COLUMNS,
    RANK_BY,
    read_portfolio,
    read_portfolio_weekly,
)
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
from analytics.read_meta import given_metadata
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
from analytics.rooms import SIZING_MARGIN_PCT, SIZING_SPARE_SEATS
from occupancy.db import Connection

__all__ = [
    "LIVE_COLUMNS",
    "PLAN_REPORTS",
    "PORTFOLIO_COLUMNS",
    "RANK_BY",
    "REPORTS",
    "SIZING_MARGIN_PCT",
    "SIZING_SPARE_SEATS",
    "Column",
    "Connection",
    "Filters",
    "PlanOptionError",
    "ReportError",
    "ReportSpec",
    "StoreError",
    "build_report",
    "given_metadata",
    "live_state",
    "plan_report",
    "read_colocation",
    "read_colocation_trend",
    "read_day_of_week",
    "read_department_no_show",
    "read_dept_presence",
    "read_desk_sharing",
    "read_desks",
    "read_devices_report",
    "read_diversity",
    "read_diversity_weekly",
    "read_forecast",
    "read_forecast_input",
    "read_hour_of_week",
    "read_intervention",
    "read_live",
    "read_metadata",
    "read_planned_in_force",
    "read_portfolio",
    "read_portfolio_weekly",
    "read_room_sizing",
    "read_scorecard",
    "read_sessions",
    "read_space_agg",
    "read_space_hourly",
    "read_stack",
    "read_utilization",
    "read_weekly_trend",
    "read_whatif",
    "read_zone_weeks",
    "scenarios_from",
    "site_timezone",
    "write_report",
]
