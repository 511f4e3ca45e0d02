"""Ground truth: where everybody really was (intervals) and the true head
counts derived from it, run-length encoded. Pure array code."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .effects import visit_mask
from .meetings import MeetingPlan
from .scenario import Scenario
from .schedule import Calendar, DayPlan, SiteIndex

logger = logging.getLogger(__name__)

__all__ = ["ACTIVITIES", "Intervals", "build_intervals", "rle_counts"]

ACTIVITIES = ("desk", "meeting", "lunch", "break", "visit")


@dataclass
class Intervals:
    """True presence, one row per stay; times [s since epoch, UTC]."""

    person: np.ndarray
    space: np.ndarray  # index into site.spaces() (desks then rooms), -1 = none
    zone: np.ndarray  # zone index
    activity: np.ndarray  # index into ACTIVITIES
    start: np.ndarray  # int64 [s]
    end: np.ndarray


def build_intervals(
    cal: Calendar,
    six: SiteIndex,
    room_zone: np.ndarray,
    plan: DayPlan,
    mp: MeetingPlan,
    sc: Scenario,
    rng: np.random.Generator,
) -> Intervals:
    n_pd = len(plan.person)
    n_desks = len(six.desk_ids)
    if n_pd == 0:
        e = np.zeros(0, dtype=np.int64)
        return Intervals(e, e, e, e, e, e)
    f_pd, f_s, f_e, f_act, f_zone, f_space = _fixed_stays(
        plan, mp, six, room_zone, n_desks
    )
    b_pd, b_s, b_e, b_zone = _coffee_breaks(cal, plan, f_pd, f_s, f_e, six, sc, rng)
    # All stays away from the desk, sorted; the desk gets the gaps in between.
    a_pd = np.r_[f_pd, b_pd]
    a_s, a_e = np.r_[f_s, b_s], np.r_[f_e, b_e]
    a_act = np.r_[f_act, np.full(len(b_pd), 3)]
    a_zone = np.r_[f_zone, b_zone]
    a_space = np.r_[f_space, np.full(len(b_pd), -1)]
    o = np.lexsort((a_s, a_pd))
    a_pd, a_s, a_e, a_act, a_zone, a_space = (
        a[o] for a in (a_pd, a_s, a_e, a_act, a_zone, a_space)
    )
    same_prev = np.r_[False, a_pd[1:] == a_pd[:-1]]
    prev_end = np.where(same_prev, np.r_[0.0, a_e[:-1]], plan.arr[a_pd])
    last = np.r_[a_pd[1:] != a_pd[:-1], True] if len(a_pd) else np.zeros(0, bool)
    tail_start = np.full(n_pd, np.nan)
    tail_start[a_pd[last]] = a_e[last]
    tail_start = np.where(np.isnan(tail_start), plan.arr, tail_start)
    g_pd = np.r_[a_pd, np.arange(n_pd)]
    g_s = np.r_[prev_end, tail_start]
    g_e = np.r_[a_s, plan.dep]
    keep = g_e > g_s
    g_pd, g_s, g_e = g_pd[keep], g_s[keep], g_e[keep]
    at_desk = plan.desk[g_pd] >= 0
    g_act = np.where(at_desk, 0, 4)
    all_pd = np.r_[g_pd, a_pd]
    mid = cal.midnight_utc[plan.day[all_pd]]
    start = (mid + np.r_[g_s, a_s]).astype(np.int64)
    end = (mid + np.r_[g_e, a_e]).astype(np.int64)
    o = np.lexsort((start, plan.person[all_pd]))
    return Intervals(
        plan.person[all_pd][o],
        np.r_[plan.desk[g_pd], a_space][o].astype(np.int64),
        np.r_[plan.zone[g_pd], a_zone][o].astype(np.int64),
        np.r_[g_act, a_act][o].astype(np.int64),
        start[o],
        end[o],
    )


def _fixed_stays(
    plan: DayPlan,
    mp: MeetingPlan,
    six: SiteIndex,
    room_zone: np.ndarray,
    n_desks: int,
) -> tuple[np.ndarray, ...]:
    """Fixed stays away from the desk, lunch and meetings (never overlapping),
    sorted by person-day and start: (person-day, start, end, activity, zone,
    space)."""
    lun = np.flatnonzero(~np.isnan(plan.lunch_start))
    f_pd = np.r_[lun, mp.att_pd].astype(np.int64)
    f_s = np.r_[plan.lunch_start[lun], mp.att_start]
    f_e = np.r_[plan.lunch_end[lun], mp.att_end]
    f_act = np.r_[np.full(len(lun), 2), np.full(len(mp.att_pd), 1)]
    f_zone = np.r_[
        np.full(len(lun), six.lunch_zone), room_zone[mp.room[mp.att_meeting]]
    ]
    f_space = np.r_[np.full(len(lun), -1), n_desks + mp.room[mp.att_meeting]]
    order = np.lexsort((f_s, f_pd))
    return tuple(a[order] for a in (f_pd, f_s, f_e, f_act, f_zone, f_space))


def _coffee_breaks(
    cal: Calendar,
    plan: DayPlan,
    f_pd: np.ndarray,
    f_s: np.ndarray,
    f_e: np.ndarray,
    six: SiteIndex,
    sc: Scenario,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coffee breaks (and the planted intervention's visits), dropped where
    they would clash with a fixed stay (or an earlier break): (person-day,
    start, end, zone)."""
    n_pd = len(plan.person)
    nb = np.minimum(rng.poisson(sc.breaks_per_day, n_pd), 3)
    b_pd = np.repeat(np.arange(n_pd), nb)
    lo, hi = plan.arr[b_pd] + 1800, plan.dep[b_pd] - 1800
    b_s = np.round(lo + rng.random(len(b_pd)) * np.maximum(hi - lo, 0))
    b_e = b_s + np.round(rng.uniform(*sc.break_min, len(b_pd)) * 60)
    b_target = np.full(len(b_pd), -1, dtype=np.int64)
    if sc.intervention_visit_share > 0:
        # Drawn after every other draw of this stage: the rest stays the same.
        v_pd, v_s, v_e, v_zone = _intervention_visits(cal, six, plan, sc, rng)
        b_pd, b_s, b_e = np.r_[b_pd, v_pd], np.r_[b_s, v_s], np.r_[b_e, v_e]
        b_target = np.r_[b_target, v_zone]
        lo, hi = plan.arr[b_pd] + 1800, plan.dep[b_pd] - 1800
    ok = hi > lo
    big = 200_000.0
    fkey = f_pd * big + f_s
    j = np.searchsorted(fkey, b_pd * big + b_e) - 1
    jj = np.maximum(j, 0)
    clash = (j >= 0) & (f_pd[jj] == b_pd) & (f_e[jj] > b_s)
    ok &= ~clash
    b_pd, b_s, b_e, b_target = b_pd[ok], b_s[ok], b_e[ok], b_target[ok]
    o = np.lexsort((b_s, b_pd))
    b_pd, b_s, b_e, b_target = b_pd[o], b_s[o], b_e[o], b_target[o]
    for _ in range(3):
        clash_prev = (b_pd[1:] == b_pd[:-1]) & (b_s[1:] < b_e[:-1])
        keep = ~np.r_[False, clash_prev] if len(b_pd) else np.zeros(0, bool)
        b_pd, b_s, b_e, b_target = b_pd[keep], b_s[keep], b_e[keep], b_target[keep]
    floor_of_zone = np.array(six.zone_floor)
    floor_zone = np.array(
        [six.break_zone_by_floor.get(f, six.lunch_zone) for f in floor_of_zone]
    )
    b_zone = np.where(b_target >= 0, b_target, floor_zone[plan.zone[b_pd]])
    return b_pd, b_s, b_e, b_zone


def _intervention_visits(
    cal: Calendar,
    six: SiteIndex,
    plan: DayPlan,
    sc: Scenario,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The planted effect: from ``intervention_date`` a share
    ``intervention_visit_share`` of person-days makes one extra visit to one of
    ``intervention_zones`` (uniform), at a uniform time of the stay, of
    ``intervention_visit_min`` minutes. (pd, start, end [s since local
    midnight], zone index)."""
    zpos = {z: i for i, z in enumerate(six.zone_ids)}
    unknown = [z for z in sc.intervention_zones if z not in zpos]
    if unknown:
        raise ValueError(f"intervention_zones: unknown zone(s) {unknown}")
    targets = np.array([zpos[z] for z in sc.intervention_zones], dtype=np.int64)
    n_pd = len(plan.person)
    u = rng.random(n_pd)
    pick = rng.integers(0, len(targets), n_pd)
    when = rng.random(n_pd)
    length = np.round(rng.uniform(*sc.intervention_visit_min, n_pd) * 60)
    chosen = visit_mask(plan.day, cal.dates, sc) & (u < sc.intervention_visit_share)
    v_pd = np.flatnonzero(chosen)
    lo, hi = plan.arr[v_pd] + 1800, plan.dep[v_pd] - 1800
    v_s = np.round(lo + when[v_pd] * np.maximum(hi - lo, 0))
    return v_pd, v_s, v_s + length[v_pd], targets[pick[v_pd]]


def rle_counts(
    key: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Head count per key, run-length encoded: (key, start, end, people) with
    the count constant over [start, end); spans with 0 people are omitted."""
    if not len(key):
        e = np.zeros(0, dtype=np.int64)
        return e, e, e, e
    k = np.r_[key, key].astype(np.int64)
    t = np.r_[start, end].astype(np.int64)
    step = np.r_[np.ones(len(key), np.int64), -np.ones(len(key), np.int64)]
    o = np.lexsort((t, k))
    k, t, step = k[o], t[o], step[o]
    level = np.cumsum(step)
    # the count after the last change at each (key, t)
    last = np.r_[(k[1:] != k[:-1]) | (t[1:] != t[:-1]), True]
    k, t, level = k[last], t[last], level[last]
    new_key = np.r_[True, k[1:] != k[:-1]]
    change = new_key | np.r_[True, level[1:] != level[:-1]]
    k, t, level = k[change], t[change], level[change]
    nxt = np.r_[t[1:], 0]
    keep = level > 0
    return k[keep], t[keep], nxt[keep], level[keep]


def counts_frame(
    names: list[str], key: np.ndarray, start: np.ndarray, end: np.ndarray, col: str
) -> pd.DataFrame:
    """:func:`rle_counts` as a truth table with UTC timestamps."""
    k, s, e, n = rle_counts(key, start, end)
    return pd.DataFrame(
        {
            col: np.asarray(names, dtype=object)[k],
            "start": pd.to_datetime(s, unit="s", utc=True),
            "end": pd.to_datetime(e, unit="s", utc=True),
            "people": n.astype(np.int64),
        }
    )


def dept_zone_frame(
    iv: Intervals,
    zone_ids: list[str],
    dept_ids: list[str],
    dept_of_person: np.ndarray,
) -> pd.DataFrame:
    """True people of each department in each zone, run-length encoded (the
    ``dept_zone`` truth table)."""
    dz = counts_frame(
        [f"{z}|{d}" for z in zone_ids for d in dept_ids],
        iv.zone * len(dept_ids) + dept_of_person[iv.person],
        iv.start,
        iv.end,
        "key",
    )
    parts = dz.pop("key").str.split("|", n=1, expand=True)
    dz.insert(0, "department_id", parts[1] if len(dz) else [])
    dz.insert(0, "zone_id", parts[0] if len(dz) else [])
    return dz
