"""The public analytics API for reports, the dashboard and the commands: one
import for the I/O modules (:mod:`analytics.db_io`, the full rewrite in
:mod:`analytics.db_rewrite`) and the rollup readers
(:mod:`analytics.read_levels`, :mod:`analytics.read_colocation`,
:mod:`analytics.read_rooms`, shared pieces in :mod:`analytics.read_common`).
Everything it returns is k-suppressed where it describes people (badge-derived
data); see docs/analytics.md.

Read helpers take ``(conn, start, end, *, level=..., filters=..., settings=...)``
with ``start``/``end`` local dates, both included.
"""

from __future__ import annotations

from analytics.copy_io import copy_out, copy_out_arrow
from analytics.db_io import (
    LEVELS,
    ROLLUP_TABLES,
    StoreError,
    copy_frame,
    event_day_range,
    import_bookings,
    read_badge_departments,
    read_events,
    read_metadata,
    read_sightings,
    site_timezone,
    touched_days,
    write_rollups,
)
from analytics.db_rewrite import abandon_rewrite, begin_rewrite, finish_rewrite
from analytics.read_colocation import read_colocation, read_colocation_trend
from analytics.read_common import (
    _FILTER_ATTRS,
    LEVEL_ORDER,
    buckets_per_day,
    calendar_for,
    filtered_spaces,
    keep_groups,
    level_agg_rows,
    level_rows,
    narrow_groups,
    read_level_agg,
    read_level_buckets,
    read_rollup,
    settings_or_default,
    working_hours_only,
)
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
from analytics.watermark import (
    max_received_at,
    pending,
    read_watermark,
    run_marks,
    write_watermark,
)

__all__ = [
    "LEVELS",
    "LEVEL_ORDER",
    "ROLLUP_TABLES",
    "_FILTER_ATTRS",
    "StoreError",
    "abandon_rewrite",
    "begin_rewrite",
    "buckets_per_day",
    "calendar_for",
    "copy_frame",
    "copy_out",
    "copy_out_arrow",
    "event_day_range",
    "filtered_spaces",
    "finish_rewrite",
    "import_bookings",
    "keep_groups",
    "level_agg_rows",
    "level_rows",
    "live_state",
    "max_received_at",
    "narrow_groups",
    "pending",
    "read_badge_departments",
    "read_colocation",
    "read_colocation_trend",
    "read_day_of_week",
    "read_department_no_show",
    "read_dept_presence",
    "read_desk_sharing",
    "read_devices_report",
    "read_diversity",
    "read_diversity_weekly",
    "read_events",
    "read_hour_of_week",
    "read_level_agg",
    "read_level_buckets",
    "read_metadata",
    "read_rollup",
    "read_room_sizing",
    "read_sessions",
    "read_sightings",
    "read_space_agg",
    "read_space_hourly",
    "read_utilization",
    "read_watermark",
    "read_weekly_trend",
    "run_marks",
    "settings_or_default",
    "site_timezone",
    "touched_days",
    "working_hours_only",
    "write_rollups",
    "write_watermark",
]
