"""Meetings: booked and walk-in, attendees from one or several departments,
rooms chosen by size (with oversize mismatches), no-shows and absent invitees.

A small loop per meeting (tens per day) on 15-minute slot grids; everything
per person stays in arrays."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from occupancy.building import Site

from .scenario import Scenario
from .schedule import DayPlan

logger = logging.getLogger(__name__)

__all__ = ["MeetingPlan", "plan_meetings"]

SLOT_S = 900  # slot grid [s]
N_SLOTS = 96


@dataclass
class MeetingPlan:
    # one row per meeting
    day: np.ndarray
    room: np.ndarray  # room index into site.rooms()
    start: np.ndarray  # booked start [s since local midnight]
    end: np.ndarray
    organiser_department: np.ndarray  # department index
    expected: np.ndarray  # invited people
    attendees: np.ndarray  # people who came
    booked: np.ndarray
    no_show: np.ndarray
    # one row per attendance (person-day row, meeting row, time in the room)
    att_pd: np.ndarray
    att_meeting: np.ndarray
    att_start: np.ndarray
    att_end: np.ndarray


def _busy_grid(plan: DayPlan, rows: np.ndarray) -> np.ndarray:
    edges = np.arange(N_SLOTS) * SLOT_S
    a, d = plan.arr[rows][:, None], plan.dep[rows][:, None]
    busy = (edges[None, :] < a) | (edges[None, :] + SLOT_S > d)
    ls, le = plan.lunch_start[rows][:, None], plan.lunch_end[rows][:, None]
    with np.errstate(invalid="ignore"):
        busy |= (edges[None, :] < le) & (edges[None, :] + SLOT_S > ls)
    return np.asarray(busy)


def plan_meetings(
    site: Site,
    plan: DayPlan,
    dept_of_person: np.ndarray,
    sc: Scenario,
    rng: np.random.Generator,
) -> MeetingPlan:
    rooms = list(site.rooms())
    draws = _Draws.of(sc, np.array([r.capacity for r in rooms], dtype=np.int64))
    acc = _Meetings()
    order = np.argsort(plan.day, kind="stable")
    n_days = int(plan.day.max()) + 1 if len(plan.day) else 0
    bounds = np.searchsorted(plan.day[order], np.arange(n_days + 1))
    for d in range(len(bounds) - 1):
        rows = order[bounds[d] : bounds[d + 1]]
        if len(rows) < 2 or not rooms:
            continue
        _day_meetings(
            d, rows, plan, dept_of_person[plan.person[rows]], draws, sc, rng, acc
        )
    return _meeting_plan(acc.m, acc.a_pd, acc.a_m, rng)


@dataclass(frozen=True)
class _Draws:
    """What meetings are drawn from: sizes, lengths, start slots, room capacities."""

    sizes: np.ndarray
    size_p: np.ndarray
    mins: np.ndarray
    min_p: np.ndarray
    starts: np.ndarray
    caps: np.ndarray

    @classmethod
    def of(cls, sc: Scenario, caps: np.ndarray) -> _Draws:
        size_p = np.array(list(sc.meeting_sizes.values()), dtype=float)
        min_p = np.array(list(sc.meeting_minutes.values()), dtype=float)
        return cls(
            sizes=np.array(list(sc.meeting_sizes), dtype=np.int64),
            size_p=size_p / size_p.sum(),
            mins=np.array(list(sc.meeting_minutes), dtype=np.int64),
            min_p=min_p / min_p.sum(),
            starts=np.arange(36, 67, 2),  # 09:00 .. 16:30 on a 30-minute grid
            caps=caps,
        )


@dataclass
class _Meetings:
    """The meetings planned so far (columns) and their attendances."""

    m: dict[str, list[int]] = field(
        default_factory=lambda: {
            k: []
            for k in "day room start end org expected attendees booked no_show".split()
        }
    )
    a_pd: list[np.ndarray] = field(default_factory=list)
    a_m: list[np.ndarray] = field(default_factory=list)

    def add(self, **row: int) -> None:
        for key, val in row.items():
            self.m[key].append(val)


def _day_meetings(
    d: int,
    rows: np.ndarray,
    plan: DayPlan,
    dept: np.ndarray,
    draws: _Draws,
    sc: Scenario,
    rng: np.random.Generator,
    acc: _Meetings,
) -> None:
    """Plan day ``d``'s meetings of the people of person-day ``rows``."""
    busy = _busy_grid(plan, rows)
    caps = draws.caps
    rbusy = np.zeros((len(caps), N_SLOTS), dtype=bool)
    n_m = rng.poisson(sc.meetings_per_person_day * len(rows))
    m_size = rng.choice(draws.sizes, n_m, p=draws.size_p)
    m_len = rng.choice(draws.mins, n_m, p=draws.min_p) // 15
    m_start = rng.choice(draws.starts, n_m)
    u = rng.random((n_m, 4))
    for i in range(n_m):
        s0, s1 = int(m_start[i]), int(m_start[i] + max(m_len[i], 1))
        cand = np.flatnonzero(~busy[:, s0:s1].any(axis=1))
        if not len(cand):
            continue
        own_dept = bool(u[i, 0] >= sc.multi_department_share)
        att = _invitees(cand, dept, int(m_size[i]), own_dept, rng)
        n_inv = len(att)
        fits = np.flatnonzero((caps >= n_inv) & ~rbusy[:, s0:s1].any(axis=1))
        if not len(fits):
            continue
        room = _room(fits, caps, bool(u[i, 1] < sc.oversize_room_share), rng)
        booked = n_inv > 1 and u[i, 2] >= sc.walk_in_share
        no_show = booked and u[i, 3] < sc.no_show_share
        rbusy[room, s0:s1] = True
        came = att[:0]
        if not no_show:
            absent = rng.random(n_inv) < sc.attendee_absent_share
            absent[0] = False
            came = att[~absent]
            busy[came, s0:s1] = True
            acc.a_pd.append(rows[came])
            acc.a_m.append(np.full(len(came), len(acc.m["day"])))
        acc.add(
            day=d,
            room=int(room),
            start=s0 * SLOT_S,
            end=s1 * SLOT_S,
            org=int(dept[att[0]]),
            expected=n_inv,
            attendees=len(came),
            booked=int(booked),
            no_show=int(no_show),
        )


def _invitees(
    cand: np.ndarray,
    dept: np.ndarray,
    size: int,
    own_department_only: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """The organiser (first) and the people invited, drawn from the free
    candidates ``cand`` (of the organiser's department only when asked)."""
    org = cand[rng.integers(len(cand))]
    pool = cand[cand != org]
    if own_department_only:
        pool = pool[dept[pool] == dept[org]]
    k = min(size - 1, len(pool))
    att: np.ndarray = (
        np.r_[org, rng.choice(pool, k, replace=False)] if k else np.r_[org]
    )
    return att


def _room(
    fits: np.ndarray, caps: np.ndarray, oversize: bool, rng: np.random.Generator
) -> int:
    """A free room that fits: any of them when ``oversize``, else one of the
    smallest."""
    if oversize:
        return int(fits[rng.integers(len(fits))])
    best = fits[caps[fits] == caps[fits].min()]
    return int(best[rng.integers(len(best))])


def _meeting_plan(
    m: dict[str, list[int]],
    a_pd: list[np.ndarray],
    a_m: list[np.ndarray],
    rng: np.random.Generator,
) -> MeetingPlan:
    att_pd = np.concatenate(a_pd) if a_pd else np.zeros(0, np.int64)
    att_m = np.concatenate(a_m) if a_m else np.zeros(0, np.int64)
    start = np.array(m["start"], dtype=float)
    end = np.array(m["end"], dtype=float)
    n_att = len(att_pd)
    # People drift in during the first minutes and leave just before the end.
    a_start = start[att_m] + np.round(rng.uniform(0, 240, n_att))
    a_end = end[att_m] - np.round(rng.uniform(0, 180, n_att))
    return MeetingPlan(
        np.array(m["day"], dtype=np.int64),
        np.array(m["room"], dtype=np.int64),
        start,
        end,
        np.array(m["org"], dtype=np.int64),
        np.array(m["expected"], dtype=np.int64),
        np.array(m["attendees"], dtype=np.int64),
        np.array(m["booked"], dtype=bool),
        np.array(m["no_show"], dtype=bool),
        att_pd,
        att_m,
        a_start,
        a_end,
    )
