"""Shared pieces of the rollup readers: settings and calendar, level rows,
filters narrowing spaces and groups.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd
from psycopg2 import sql

from analytics.calendar import Calendar
from analytics.db_io import copy_out, site_timezone

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------- rollup reads
def settings_or_default(settings: Any) -> Any:
    if settings is None:
        from occupancy.settings import load_settings

        return load_settings()
    return settings


def calendar_for(conn: Any, settings: Any) -> Calendar:
    return Calendar.from_settings(settings, timezone=site_timezone(conn, settings))


def read_rollup(
    conn: Any,
    table: str,
    start: dt.date,
    end: dt.date,
    level: str | None = None,
    *,
    working_hours_only: bool = False,
) -> pd.DataFrame:
    q = sql.SQL("SELECT * FROM {} WHERE day BETWEEN %s AND %s").format(
        sql.Identifier(table)
    )
    params: tuple[Any, ...] = (start, end)
    if level is not None:
        q = q + sql.SQL(" AND level = %s")
        params = (start, end, level)
    if working_hours_only:
        q = q + sql.SQL(" AND in_working_hours")
    frame = copy_out(conn, q.as_string(conn), params)
    if "day" in frame.columns:
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    if "bucket_start" in frame.columns:
        frame["bucket_start"] = pd.to_datetime(
            frame["bucket_start"], utc=True, format="ISO8601"
        )
    return frame


def filtered_spaces(spaces: pd.DataFrame, filters: Any) -> pd.DataFrame:
    """Spaces matching the filters (site, building, floor, zone, department)."""
    if filters is None:
        return spaces
    s = spaces
    for attr, col in (
        ("site", "site_id"),
        ("building", "building_id"),
        ("floor", "floor_id"),
        ("zone", "zone_id"),
        ("department", "department_id"),
    ):
        value = getattr(filters, attr, None)
        if value:
            s = s[s[col] == value]
    return s


#: Group levels from coarse to fine: where a filter narrower than the asked
#: level falls back to (see :func:`narrow_groups`).
LEVEL_ORDER = ("building", "floor", "department", "zone", "room")

_FILTER_ATTRS = ("site", "building", "floor", "zone", "department")


def working_hours_only(filters: Any) -> bool:
    """``filters.working_hours_only`` (default True: no filters = working hours)."""
    return bool(getattr(filters, "working_hours_only", True))


def _has_filter(filters: Any) -> bool:
    return filters is not None and any(getattr(filters, a, None) for a in _FILTER_ATTRS)


def narrow_groups(
    spaces: pd.DataFrame, level: str, filters: Any
) -> tuple[str, pd.DataFrame]:
    """Which groups a filtered group-level read returns: ``(effective level,
    frame of level, level_id)``.

    A group row is only ever returned whole, so it is returned only when it
    lies *entirely inside* the filters (every space of the group matches).
    The asked ``level`` is used when every group of it that touches the
    filtered spaces lies inside; otherwise the next finer level in
    :data:`LEVEL_ORDER` where that holds (a floor filter at ``building`` level
    returns that floor's ``floor`` row; a floor filter at ``department`` level
    returns the zones of that floor). Zones and rooms always qualify."""
    from analytics.utilization import membership

    mem = membership(spaces)
    matching = set(filtered_spaces(spaces, filters)["space_id"])
    inside = mem["space_id"].isin(matching)
    per = inside.groupby([mem["level"], mem["level_id"]]).agg(["any", "all"])
    order = list(LEVEL_ORDER)
    candidates = order[order.index(level) :] if level in order else [level]
    for lvl in candidates:
        if lvl not in per.index.get_level_values(0):
            continue
        g = per.loc[lvl]
        touching = g[g["any"]]
        if len(touching) and bool(touching["all"].all()):
            return lvl, pd.DataFrame(
                {"level": lvl, "level_id": touching.index.astype(str)}
            )
    return level, pd.DataFrame({"level": [], "level_id": []}, dtype=object)


def keep_groups(lb: pd.DataFrame, spaces: pd.DataFrame, filters: Any) -> pd.DataFrame:
    """Level rows of groups lying entirely inside the filters (rows of one
    level, already read). Used where no fallback level applies."""
    if not _has_filter(filters):
        return lb
    from analytics.utilization import membership

    mem = membership(spaces)
    matching = set(filtered_spaces(spaces, filters)["space_id"])
    inside = mem["space_id"].isin(matching)
    all_in = inside.groupby([mem["level"], mem["level_id"]]).all()
    keys = all_in[all_in].index.to_frame(index=False)[["level", "level_id"]]
    return lb.merge(keys, on=["level", "level_id"])


def level_rows(
    conn: Any,
    start: dt.date,
    end: dt.date,
    level: str,
    spaces: pd.DataFrame,
    filters: Any,
) -> pd.DataFrame:
    """analytics_level_buckets rows of ``level`` narrowed by ``filters`` as
    :func:`narrow_groups` says (possibly rows of a finer level)."""
    wh = working_hours_only(filters)
    if not _has_filter(filters):
        return read_level_buckets(conn, start, end, level, working_hours_only=wh)
    lvl, keys = narrow_groups(spaces, level, filters)
    lb = read_level_buckets(conn, start, end, lvl, working_hours_only=wh)
    return lb.merge(keys, on=["level", "level_id"])


def read_level_buckets(
    conn: Any,
    start: dt.date,
    end: dt.date,
    level: str,
    *,
    working_hours_only: bool = True,
) -> pd.DataFrame:
    """``analytics_level_buckets`` rows of one level; only the buckets in
    working hours (and days, holidays excluded) unless ``working_hours_only``
    is False."""
    return read_rollup(
        conn,
        "analytics_level_buckets",
        start,
        end,
        level,
        working_hours_only=working_hours_only,
    )
