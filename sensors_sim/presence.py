"""The simulation's people stages only (people → days → meetings → true
intervals → head counts), without devices or messages: the same truth as
:func:`sensors_sim.simulate` for the same seed (the same generators, spawned
the same way), fast enough for a simulated year. For forecasting and
intervention benchmarks and tests that need the truth of long periods."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from occupancy.building import Site

from .meetings import plan_meetings
from .people import make_people
from .scenario import Scenario
from .schedule import index_site, make_calendar, plan_days
from .truth import build_intervals, counts_frame, dept_zone_frame

logger = logging.getLogger(__name__)

__all__ = ["simulate_presence"]


def simulate_presence(
    site: Site,
    scenario: Scenario,
    start: dt.date,
    days: int,
    seed: int,
    *,
    stays: bool = False,
) -> dict[str, pd.DataFrame]:
    """Truth tables ``people``, ``space_counts``, ``zone_counts`` and
    ``dept_zone`` (columns as in docs/architecture.md) of ``days`` days from
    ``start``; identical to those of ``simulate`` with the same arguments.
    ``stays``: also ``stays`` (person_id, department_id, zone_id, start,
    end), the intervals without their space and activity."""
    if days < 1:
        raise ValueError(f"days must be ≥ 1, got {days}")
    sc = scenario
    rngs = [np.random.default_rng(r) for r in np.random.SeedSequence(seed).spawn(10)]
    people = make_people(site, sc, rngs[0])
    cal = make_calendar(site, sc, start, days)
    six = index_site(site, sc)
    plan = plan_days(people, cal, six, sc, rngs[1])
    dept_ids = [d.id for d in site.departments]
    dept_of_person = (
        people["department_id"]
        .map({d: i for i, d in enumerate(dept_ids)})
        .to_numpy(np.int64)
    )
    zpos = {z: i for i, z in enumerate(six.zone_ids)}
    room_zone = np.array([zpos[r.zone_id] for r in site.rooms()], dtype=np.int64)
    mp = plan_meetings(site, plan, dept_of_person, sc, rngs[2])
    iv = build_intervals(cal, six, room_zone, plan, mp, sc, rngs[3])
    space_ids = [s.id for s in site.spaces()]
    sp = iv.space >= 0
    out = {
        "people": people,
        "space_counts": counts_frame(
            space_ids, iv.space[sp], iv.start[sp], iv.end[sp], "space_id"
        ),
        "zone_counts": counts_frame(six.zone_ids, iv.zone, iv.start, iv.end, "zone_id"),
        "dept_zone": dept_zone_frame(iv, six.zone_ids, dept_ids, dept_of_person),
    }
    if stays:
        out["stays"] = pd.DataFrame(
            {
                "person_id": people["person_id"].to_numpy(object)[iv.person],
                "department_id": np.asarray(dept_ids, dtype=object)[
                    dept_of_person[iv.person]
                ],
                "zone_id": np.asarray(six.zone_ids, dtype=object)[iv.zone],
                "start": pd.to_datetime(iv.start, unit="s", utc=True),
                "end": pd.to_datetime(iv.end, unit="s", utc=True),
            }
        )
    return out
