"""The simulation pipeline: people → days → meetings → true intervals →
device messages → faults → encoded messages, plus the ground-truth tables.

Each stage draws from its own numpy Generator spawned from the seed, so the
same seed gives byte-identical messages and truth."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from occupancy.building import Site

from . import devices as dv
from .encode import encode_stream
from .faults import apply_faults
from .meetings import MeetingPlan, plan_meetings
from .people import make_people
from .scenario import Scenario
from .schedule import Calendar, SiteIndex, index_site, make_calendar, plan_days
from .truth import (
    ACTIVITIES,
    Intervals,
    build_intervals,
    counts_frame,
    dept_zone_frame,
)

logger = logging.getLogger(__name__)

__all__ = ["TRUTH_TABLES", "SimResult", "simulate"]

TRUTH_TABLES = (
    "people",
    "intervals",
    "space_counts",
    "zone_counts",
    "dept_zone",
    "meetings",
    "messages",
    "badges",
)
#: columns of the ``messages`` truth table (architecture.md, plus send_at, kind)
TRUTH_MESSAGE_COLUMNS = (
    "device_id",
    "topic",
    "seq",
    "ts_true",
    "fault",
    "expected",
    "send_at",
    "kind",
)


@dataclass
class SimResult:
    """``truth``: the ground-truth tables; ``messages``: what to publish, sorted
    by ``send_at`` (UTC)."""

    truth: dict[str, pd.DataFrame]
    messages: pd.DataFrame

    def write_truth(self, directory: str | Path, fmt: str = "parquet") -> list[Path]:
        """Write each truth table to ``<dir>/<table>.parquet`` (or ``.csv``)."""
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"truth format {fmt!r}: use parquet or csv")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        out = []
        for name in TRUTH_TABLES:
            df = self.truth[name]
            path = d / f"{name}.{fmt}"
            if fmt == "parquet":
                df.to_parquet(path, index=False)
            else:
                df.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
            out.append(path)
        return out

    def write_bookings(self, path: str | Path, tz: str = "UTC") -> Path:
        """The booked meetings as a bookings CSV: room_id,start,end,
        organiser_department,expected_attendees (ISO with offset)."""
        m = self.truth["meetings"]
        b = m[m["booked"]]
        out = pd.DataFrame(
            {
                "room_id": b["room_id"],
                "start": [t.isoformat() for t in b["start"].dt.tz_convert(tz)],
                "end": [t.isoformat() for t in b["end"].dt.tz_convert(tz)],
                "organiser_department": b["organiser_department"],
                "expected_attendees": b["expected_attendees"],
            }
        )
        p = Path(path)
        out.to_csv(p, index=False)
        return p


def _utc(seconds: np.ndarray) -> pd.Series:
    return pd.Series(
        pd.to_datetime(np.asarray(seconds, dtype=np.int64), unit="s", utc=True)
    )


@dataclass(frozen=True)
class _World:
    """What every stage of one simulation shares."""

    site: Site
    sc: Scenario
    six: SiteIndex
    cal: Calendar
    people: pd.DataFrame
    dept_ids: list[str]
    dept_of_person: np.ndarray
    space_ids: list[str]
    zpos: dict[str, int]
    rooms: list[Any]


def simulate(
    site: Site,
    scenario: Scenario,
    start: dt.date,
    days: int,
    seed: int,
    topic_root: str = "occupancy",
) -> SimResult:
    """Simulate ``days`` days from ``start`` (local dates of the site)."""
    if days < 1:
        raise ValueError(f"days must be ≥ 1, got {days}")
    sc = scenario
    rngs = [np.random.default_rng(r) for r in np.random.SeedSequence(seed).spawn(10)]
    people = make_people(site, sc, rngs[0])
    cal = make_calendar(site, sc, start, days)
    six = index_site(site, sc)
    plan = plan_days(people, cal, six, sc, rngs[1])
    dept_ids = [d.id for d in site.departments]
    dept_idx = people["department_id"].map({d: i for i, d in enumerate(dept_ids)})
    rooms = list(site.rooms())
    w = _World(
        site,
        sc,
        six,
        cal,
        people,
        dept_ids,
        dept_idx.to_numpy(np.int64),
        [s.id for s in site.spaces()],
        {z: i for i, z in enumerate(six.zone_ids)},
        rooms,
    )
    room_zone = np.array([w.zpos[r.zone_id] for r in rooms], dtype=np.int64)
    mp = plan_meetings(site, plan, w.dept_of_person, sc, rngs[2])
    iv = build_intervals(cal, six, room_zone, plan, mp, sc, rngs[3])
    logger.info(
        "%d person-days, %d meetings, %d intervals",
        len(plan.person),
        len(mp.day),
        len(iv.start),
    )
    truth = _truth_tables(w, iv, mp)
    n_dev = len(site.devices)
    rd = rngs[4]
    kind = np.array([d.kind for d in site.devices], dtype=object)
    stuck = (kind == "desk_sensor") & (rd.random(n_dev) < sc.faults.stuck)
    drain = rd.random(n_dev) < sc.faults.battery_drain
    t0 = int(cal.midnight_utc[0]) * 1000
    # Hand each big intermediate over instead of keeping a reference here, so
    # the stage that replaces it can free it (peak memory: one copy at a time).
    held: list[Any] = [_raw_messages(w, iv, truth, stuck, drain, days, rngs)]
    held.append(apply_faults(held.pop(), n_dev, stuck, drain, t0, days, sc, rngs[9]))
    messages = encode_stream(held.pop(), site, topic_root)
    # the truth table shares the columns' memory with ``messages``
    truth["messages"] = pd.DataFrame(
        {c: messages[c] for c in TRUTH_MESSAGE_COLUMNS}, copy=False
    )
    logger.info("%d messages", len(messages))
    return SimResult(truth, messages)


def _truth_tables(w: _World, iv: Intervals, mp: MeetingPlan) -> dict[str, pd.DataFrame]:
    """The ground-truth tables (all but ``messages``) of the intervals ``iv``
    and meetings ``mp``."""
    six, dept_ids, dept_of_person = w.six, w.dept_ids, w.dept_of_person
    space_ids = w.space_ids
    floor_of_zone = np.array(six.zone_floor, dtype=object)
    pid = w.people["person_id"].to_numpy(object)
    truth: dict[str, pd.DataFrame] = {"people": w.people}
    truth["intervals"] = pd.DataFrame(
        {
            "person_id": pid[iv.person],
            "department_id": np.asarray(dept_ids, dtype=object)[
                dept_of_person[iv.person]
            ],
            "space_id": np.where(
                iv.space >= 0,
                np.asarray(space_ids, dtype=object)[np.maximum(iv.space, 0)],
                None,
            ),
            "zone_id": np.asarray(six.zone_ids, dtype=object)[iv.zone],
            "floor_id": floor_of_zone[iv.zone],
            "start": _utc(iv.start),
            "end": _utc(iv.end),
            "activity": np.asarray(ACTIVITIES, dtype=object)[iv.activity],
        }
    )
    sp = iv.space >= 0
    truth["space_counts"] = counts_frame(
        space_ids, iv.space[sp], iv.start[sp], iv.end[sp], "space_id"
    )
    truth["zone_counts"] = counts_frame(
        six.zone_ids, iv.zone, iv.start, iv.end, "zone_id"
    )
    truth["dept_zone"] = dept_zone_frame(iv, six.zone_ids, dept_ids, dept_of_person)
    mid = w.cal.midnight_utc[mp.day]
    truth["meetings"] = pd.DataFrame(
        {
            "meeting_id": [f"m{i + 1:06d}" for i in range(len(mp.day))],
            "room_id": np.asarray([r.id for r in w.rooms], dtype=object)[mp.room],
            "start": _utc(mid + mp.start),
            "end": _utc(mid + mp.end),
            "organiser_department": np.asarray(dept_ids, dtype=object)[
                mp.organiser_department
            ],
            "expected_attendees": mp.expected,
            "attendees": mp.attendees,
            "booked": mp.booked,
            "no_show": mp.no_show,
        }
    )
    badges = w.people[w.people["has_badge"]]
    truth["badges"] = badges[["badge_id", "department_id"]].reset_index(drop=True)
    return truth


def _device_of(w: _World) -> dict[str, np.ndarray]:
    """Device index (-1: none) per desk, space, zone counter and zone scanner."""
    six, zpos = w.six, w.zpos
    desk_pos = {d: i for i, d in enumerate(six.desk_ids)}
    space_pos = {s: i for i, s in enumerate(w.space_ids)}
    of = {
        "desk": np.full(len(six.desk_ids), -1, dtype=np.int64),
        "space": np.full(len(w.space_ids), -1, dtype=np.int64),
        "zone_counter": np.full(len(six.zone_ids), -1, dtype=np.int64),
        "zone_scanner": np.full(len(six.zone_ids), -1, dtype=np.int64),
    }
    for i, d in enumerate(w.site.devices):
        if d.kind == "desk_sensor" and d.space_id in desk_pos:
            of["desk"][desk_pos[d.space_id]] = i
        elif d.kind == "room_counter" and d.space_id in space_pos:
            of["space"][space_pos[d.space_id]] = i
        elif d.kind == "zone_counter" and d.zone_id in zpos:
            of["zone_counter"][zpos[d.zone_id]] = i
        elif d.kind == "ble_scanner" and d.zone_id in zpos:
            of["zone_scanner"][zpos[d.zone_id]] = i
    return of


def _ms(col: pd.Series) -> np.ndarray:
    return np.asarray(col.to_numpy("datetime64[ms]").astype(np.int64))


def _raw_messages(
    w: _World,
    iv: Intervals,
    truth: dict[str, pd.DataFrame],
    stuck: np.ndarray,
    drain: np.ndarray,
    days: int,
    rngs: list[np.random.Generator],
) -> dv.Raw:
    """Every device's raw messages before faults and encoding."""
    t0 = int(w.cal.midnight_utc[0]) * 1000
    t1 = t0 + days * 86_400_000
    kind = np.array([d.kind for d in w.site.devices], dtype=object)
    of = _device_of(w)
    on_desk = (iv.space >= 0) & (iv.space < len(w.six.desk_ids))
    parts_raw = [
        dv.desk_messages(
            of["desk"],
            dv.Stays(
                iv.space[on_desk], iv.start[on_desk] * 1000, iv.end[on_desk] * 1000
            ),
            stuck,
            np.flatnonzero(kind == "desk_sensor"),
            dv.Period(t0, t1),
            w.sc,
            rngs[5],
        ),
        _counter_raw(w, of, truth, rngs[6]),
    ]
    scanner_of = of["zone_scanner"]
    bmask = (scanner_of[iv.zone] >= 0) & w.people["has_badge"].to_numpy(bool)[iv.person]
    parts_raw.append(
        dv.ble_messages(
            dv.Stays(
                scanner_of[iv.zone[bmask]], iv.start[bmask] * 1000, iv.end[bmask] * 1000
            ),
            w.people["badge_id"].to_numpy(object)[iv.person[bmask]],
            np.flatnonzero(kind == "ble_scanner"),
            dv.Period(t0, t1),
            w.sc,
            rngs[7],
        )
    )
    n_dev = len(w.site.devices)
    parts_raw.append(
        dv.battery_messages(np.arange(n_dev), drain, t0, t1, w.sc, rngs[8])
    )
    return dv.concat_raw(parts_raw)


def _counter_raw(
    w: _World,
    of: dict[str, np.ndarray],
    truth: dict[str, pd.DataFrame],
    rng: np.random.Generator,
) -> dv.Raw:
    """The people counters' messages: the true head counts of their space or zone."""
    space_pos = {s: i for i, s in enumerate(w.space_ids)}
    scs, zc = truth["space_counts"], truth["zone_counts"]
    sc_k = scs["space_id"].map(space_pos).to_numpy(np.int64)
    zc_k = zc["zone_id"].map(w.zpos).to_numpy(np.int64)
    c_dev = np.r_[of["space"][sc_k], of["zone_counter"][zc_k]]
    c_s = np.r_[_ms(scs["start"]), _ms(zc["start"])]
    c_e = np.r_[_ms(scs["end"]), _ms(zc["end"])]
    c_n = np.r_[scs["people"].to_numpy(np.int64), zc["people"].to_numpy(np.int64)]
    has = c_dev >= 0
    return dv.counter_messages(c_dev[has], c_s[has], c_e[has], c_n[has], w.sc, rng)
