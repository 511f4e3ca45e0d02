"""Hour-of-week profiles of groups computed in the database, over the
level-hour rows of ``analytics_level_hourly`` (``read_levels.read_hour_of_week``
at a group level).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.copy_io import copy_out
from analytics.filters import Filters
from analytics.read_common import level_agg_groups, level_agg_query, working_hours_only
from occupancy.db import Connection

__all__ = [
    "HOUR_OF_WEEK_PERCENTILES",
    "HOUR_OF_WEEK_SQL",
    "PERCENTILE_COLUMNS",
    "read_hour_of_week_agg",
]

#: :func:`analytics.patterns.hour_of_week_from_hourly` in SQL, over the
#: level-hour rows of ``read_level_agg(by_hour=True)`` (the subquery ``{h}``):
#: per week (a weekday's hour is one row a week) the mean head count
#: people_s ÷ (buckets × bucket_s) and the utilization 100 × people_s ÷
#: capacity_s (NULL without capacity), then mean, median, p90 (linear
#: interpolation, NULLs skipped; the people p90 NULL when a week has none, as
#: np.quantile), max over the weeks. The same float operations in the same
#: order as pandas; a year of zones is a few thousand rows, not 100,000.
HOUR_OF_WEEK_SQL = """
WITH v AS (
  SELECT level, level_id, extract(isodow FROM day)::int - 1 AS weekday, hour,
         people_s::float8 / (n::float8 * %s::float8) AS people,
         CASE WHEN capacity_s > 0
              THEN 100.0::float8 * people_s::float8 / capacity_s::float8 END
           AS utilization_pct,
         peak_people
    FROM ({h}) h
)
SELECT level, level_id, weekday, hour, count(*) AS weeks,
       avg(people) AS people_mean,{median}
       max(people) AS people_max,
       avg(utilization_pct) AS utilization_pct,{p90}
       max(utilization_pct) AS utilization_max_pct,
       max(peak_people) AS peak_people
  FROM v GROUP BY level, level_id, weekday, hour"""
#: The percentiles of :data:`HOUR_OF_WEEK_SQL` ({median}, {p90}): each sorts
#: every group's weeks, two thirds of the query's time on a year of zones.
HOUR_OF_WEEK_PERCENTILES = {
    "{median}": """
       percentile_cont(0.5) WITHIN GROUP (ORDER BY people) AS people_median,
       CASE WHEN count(people) = count(*)
            THEN percentile_cont(0.9) WITHIN GROUP (ORDER BY people) END
         AS people_p90,""",
    "{p90}": """
       percentile_cont(0.9) WITHIN GROUP (ORDER BY utilization_pct)
         AS utilization_p90_pct,""",
}
#: Columns of a profile without percentiles (``read_hour_of_week(means_only=True)``).
PERCENTILE_COLUMNS = ("people_median", "people_p90", "utilization_p90_pct")


def read_hour_of_week_agg(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    level: str,
    spaces: pd.DataFrame,
    filters: Filters | None,
    *,
    bucket_s: int,
    percentiles: bool = True,
) -> pd.DataFrame:
    """``hour_of_week_from_hourly(level_agg_rows(..., by_hour=True))``
    computed in the database (:data:`HOUR_OF_WEEK_SQL`): the same columns,
    dtypes and row order; without :data:`PERCENTILE_COLUMNS` unless
    ``percentiles``."""
    lvl, ids = level_agg_groups(spaces, level, filters)
    inner, params = level_agg_query(
        start,
        end,
        lvl,
        ids,
        working_hours_only=working_hours_only(filters),
        by_hour=True,
        ordered=False,
    )
    q = HOUR_OF_WEEK_SQL.replace("{h}", inner.as_string(conn))
    for mark, part in HOUR_OF_WEEK_PERCENTILES.items():
        q = q.replace(mark, part if percentiles else "")
    # Through CSV like read_level_agg: whole-number maxima come back int64.
    out = copy_out(conn, q, (bucket_s, *params))
    if out.empty:
        return out
    out["level"] = out["level"].astype(str)
    out["level_id"] = out["level_id"].astype(str)
    # int32 as pandas' .dt.weekday and the hour column give them.
    out["weekday"] = out["weekday"].astype(np.int32)
    out["hour"] = out["hour"].astype(np.int32)
    for col in ("people_p90", "utilization_p90_pct"):
        if col in out.columns:
            out[col] = out[col].astype(float)
    keys = ["level", "level_id", "weekday", "hour"]
    return out.sort_values(keys).reset_index(drop=True)
