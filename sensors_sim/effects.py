"""Demand effects of the scenario that make forecasting and intervention
analysis real: headcount growth, a hybrid-policy change at a date, school
holidays, a winter sickness dip, one-off events, and a planted intervention
(extra visits to chosen zones from a date). Pure array code; every effect is
off by default and then draws nothing, so old scenarios give the same output.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np

from occupancy.schoolholidays import school_holidays

from .scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = ["attendance_factor", "join_day", "visit_mask"]

#: The winter sickness dip peaks on this day of the year (1 February) ...
_DIP_PEAK = (2, 1)
#: ... with this spread (Gaussian sd) [days].
_DIP_SD_DAYS = 21.0
#: Golden-ratio sequence: picks joiners evenly across departments.
_GOLDEN = 0.6180339887498949


def attendance_factor(dates: tuple[dt.date, ...], sc: Scenario) -> np.ndarray:
    """Per simulated day, the factor on every person's attendance probability:
    policy change × school holidays × (1 − winter dip) × event factor."""
    n = len(dates)
    f = np.ones(n)
    if not n:
        return f
    if sc.policy_change_date is not None:
        change = dt.date.fromisoformat(sc.policy_change_date)
        after = np.array([d >= change for d in dates])
        f[after] *= sc.policy_office_days_factor
    if sc.school_holidays != "none":
        off = school_holidays(sc.school_holidays, dates[0], dates[-1])
        f[np.array([d in off for d in dates])] *= sc.school_holiday_factor
    if sc.winter_sickness_dip > 0:
        dist = np.array([_days_to_peak(d) for d in dates], dtype=float)
        f *= 1.0 - sc.winter_sickness_dip * np.exp(-0.5 * (dist / _DIP_SD_DAYS) ** 2)
    for day, factor in sc.events.items():
        hit = np.array([d == dt.date.fromisoformat(day) for d in dates])
        f[hit] *= factor
    return f


def _days_to_peak(d: dt.date) -> int:
    """Days from ``d`` to the nearest winter-dip peak (this or next year's)."""
    return min(
        abs((d - dt.date(y, *_DIP_PEAK)).days) for y in (d.year - 1, d.year, d.year + 1)
    )


def join_day(n_people: int, n_days: int, sc: Scenario) -> np.ndarray:
    """Per person, the first simulated day (index) they work here. With
    ``headcount_growth_pct`` = g, a share g ÷ (100 + g) of the staff joins
    during the period, on days spread evenly over it, so the headcount grows
    by g % from the first day to the last; everybody else joins on day 0."""
    out = np.zeros(n_people, dtype=np.int64)
    g = sc.headcount_growth_pct
    if g <= 0 or n_people == 0:
        return out
    share = g / (100.0 + g)
    u = (np.arange(n_people) * _GOLDEN) % 1.0
    joiners = np.flatnonzero(u < share)
    # Rank of each joiner's u gives an even spread of join days.
    rank = np.argsort(np.argsort(u[joiners]))
    out[joiners] = 1 + (rank * (n_days - 1)) // max(len(joiners), 1)
    return out


def visit_mask(
    day_of_pd: np.ndarray, dates: tuple[dt.date, ...], sc: Scenario
) -> np.ndarray:
    """Person-days (by day index) on or after ``intervention_date``: those that
    may make a planted intervention visit."""
    if sc.intervention_date is None or sc.intervention_visit_share <= 0:
        return np.zeros(len(day_of_pd), dtype=bool)
    start = dt.date.fromisoformat(sc.intervention_date)
    after = np.array([d >= start for d in dates], dtype=bool)
    return after[day_of_pd] if len(dates) else np.zeros(len(day_of_pd), dtype=bool)
