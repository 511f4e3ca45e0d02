"""The simulated staff: department, home neighbourhood, hybrid-work habit and
BLE badge. One row per person; deterministic for a given generator."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from occupancy.building import Site

from .scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = ["PEOPLE_COLUMNS", "badge_mac", "make_people"]

PEOPLE_COLUMNS = (
    "person_id",
    "department_id",
    "home_zone_id",
    "office_days_per_week",
    "has_badge",
    "badge_id",
)


def badge_mac(index: int) -> str:
    """The raw BLE MAC of person ``index``'s badge beacon (stable per person)."""
    return (
        f"c0:ff:ee:{(index >> 16) & 255:02x}:{(index >> 8) & 255:02x}:{index & 255:02x}"
    )


def make_people(site: Site, sc: Scenario, rng: np.random.Generator) -> pd.DataFrame:
    """One row per employee (``headcount`` per department).

    ``office_days_per_week`` [days] is the person's own habit: the department's
    value (scenario, else building file, else the scenario default) plus a
    normal spread, clipped to 0.2..5.
    """
    zones = list(site.zones())
    neighbourhoods = [z for z in zones if z.kind == "neighbourhood" and z.desks]
    if not neighbourhoods:
        neighbourhoods = [z for z in zones if z.desks]
    rows: list[tuple[str, str, float]] = []
    for d in site.departments:
        home = [z.id for z in neighbourhoods if z.department_id == d.id]
        if not home:
            home = [max(neighbourhoods, key=lambda z: len(z.desks)).id]
        days = sc.office_days_per_week.get(
            d.id,
            d.office_days_per_week
            if d.office_days_per_week is not None
            else sc.default_office_days_per_week,
        )
        picks = rng.integers(0, len(home), size=d.headcount)
        rows.extend((d.id, home[int(k)], float(days)) for k in picks)
    n = len(rows)
    base = np.array([r[2] for r in rows], dtype=float)
    odpw = np.clip(base + rng.normal(0.0, sc.person_office_days_sd, n), 0.2, 5.0)
    has_badge = rng.random(n) < sc.badge_share
    return pd.DataFrame(
        {
            "person_id": [f"p{i + 1:04d}" for i in range(n)],
            "department_id": [r[0] for r in rows],
            "home_zone_id": [r[1] for r in rows],
            "office_days_per_week": np.round(odpw, 2),
            "has_badge": has_badge,
            "badge_id": [
                badge_mac(sc.badge_offset + i + 1) if b else None
                for i, b in enumerate(has_badge)
            ],
        }
    )
