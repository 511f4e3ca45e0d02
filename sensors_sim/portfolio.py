"""A portfolio of simulated buildings: offices of different sizes in different
cities and time zones, each with its own departments, habits and costs.

:func:`make_portfolio` gives one :class:`PortfolioBuilding` per building: the
building file (a site with one building, ids prefixed with the building's
code so a whole portfolio loads into one database) and the scenario of its
people (office days, arrival, working day, lunch, holidays of its country).
Deterministic for a given seed. ``occupancy simulate portfolio`` writes the
files and simulates them (sensors_sim/portfolio_cli.py, docs/simulator.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from occupancy.building import Site, parse_building

from .scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = [
    "CITIES",
    "City",
    "PortfolioBuilding",
    "make_portfolio",
    "portfolio_manifest",
    "truth_summary",
]


@dataclass(frozen=True)
class City:
    """Where a building stands and how its people work there."""

    code: str
    name: str
    timezone: str
    holidays: str  # scenario holidays: dutch | none
    office_days: float  # mean office days per week [days]
    arrival: str  # mean arrival, local HH:MM
    workday_h: float  # mean time in the building [h]
    lunch: str  # mean lunch, local HH:MM
    people_per_desk: float  # staff per desk (desk-sharing ratio)
    cost_per_desk_year: float  # EUR per desk per year
    cost_per_m2_year: float  # EUR per m² per year


#: The cities of the portfolio, in the order buildings are dealt to them.
CITIES: tuple[City, ...] = (
    City(
        "ams", "Amsterdam", "Europe/Amsterdam", "dutch", 2.4, "08:45", 8.2, "12:25",
        1.5, 5200, 420,
    ),
    City(
        "rtm", "Rotterdam", "Europe/Amsterdam", "dutch", 2.9, "08:15", 8.5, "12:15",
        1.3, 3900, 260,
    ),
    City(
        "lon", "London", "Europe/London", "none", 2.2, "09:00", 8.6, "12:45",
        1.6, 9800, 780,
    ),
    City(
        "nyc", "New York", "America/New_York", "none", 3.1, "08:30", 9.0, "12:30",
        1.2, 11500, 900,
    ),
    City(
        "sin", "Singapore", "Asia/Singapore", "none", 3.6, "09:00", 9.2, "12:00",
        1.1, 7400, 610,
    ),
)  # fmt: skip

#: id, name, office-day offset from the city's mean [days], colour (Okabe-Ito)
_DEPARTMENTS = (
    ("finance", "Finance", 0.2, "#E69F00"),
    ("hr", "HR", -0.1, "#56B4E9"),
    ("it", "IT", -0.4, "#009E73"),
    ("marketing", "Marketing", 0.3, "#F0E442"),
    ("sales", "Sales", -0.5, "#0072B2"),
    ("legal", "Legal", 0.5, "#D55E00"),
    ("operations", "Operations", 0.7, "#CC79A7"),
    ("rnd", "R&D", 0.0, "#000000"),
)
#: Rooms along the bottom of a floor, taken from the front: (kind, seats).
_ROOMS = (
    ("phone_booth", 1),
    ("meeting_room", 4),
    ("meeting_room", 6),
    ("focus_room", 2),
    ("meeting_room", 8),
    ("meeting_room", 4),
    ("meeting_room", 12),
    ("phone_booth", 1),
    ("meeting_room", 6),
    ("meeting_room", 10),
)
_ROOM_W = {1: 1.6, 2: 2.6, 4: 3.4, 6: 4.2, 8: 5.0, 10: 5.5, 12: 6.0}
FLOOR_W, FLOOR_H = 60.0, 32.0  # [m]
_PITCH_X, _PITCH_Y = 2.2, 1.8  # desk grid [m]
_M2_PER_DESK = 15.0  # lettable area per desk [m²] (offices: 10-20)
_BADGES_PER_BUILDING = 20_000  # badge index range of one building (≤ 2,000 people)


@dataclass(frozen=True)
class PortfolioBuilding:
    """One simulated building: its file (``doc``, the YAML mapping), the
    parsed site, the scenario of its people, and the badge index offset."""

    code: str
    city: City
    doc: dict[str, Any]
    site: Site
    scenario: Scenario

    @property
    def desks(self) -> int:
        return sum(1 for _ in self.site.desks())


def _desks(zone_id: str, x0: float, width: float, n: int) -> list[dict[str, Any]]:
    """``n`` desks of 1.6 x 0.8 m in a grid in the zone [x0, x0 + width] x [0, 18]."""
    cols = int((width - 1.0) // _PITCH_X)
    if n > cols * 9:
        raise ValueError(f"{zone_id}: {n} desks do not fit in {width:.1f} m")
    out = []
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = round(x0 + 0.7 + c * _PITCH_X, 2), round(0.7 + r * _PITCH_Y, 2)
        out.append(
            {
                "id": f"{zone_id}-d{i + 1:03d}",
                "x": x,
                "y": y,
                "width": 1.6,
                "height": 0.8,
            }
        )
    return out


def _rooms(fid: str, n: int) -> list[dict[str, Any]]:
    rooms, x = [], 0.5
    for k, (kind, cap) in enumerate(_ROOMS[:n]):
        w = _ROOM_W[cap]
        rooms.append(
            {
                "id": f"{fid}-r{k + 1:02d}",
                "name": f"{kind.replace('_', ' ').capitalize()} {fid.rsplit('-', maxsplit=1)[-1]}.{k + 1}",
                "kind": kind,
                "capacity": cap,
                "x": round(x, 2),
                "y": 20.0,
                "width": w,
                "height": 5.0 if cap > 2 else 2.5,
            }
        )
        x += w + 0.3
    return rooms


def _floor(code: str, level: int, depts: list[str], per_floor: int) -> dict[str, Any]:
    """A 60 x 32 m floor: the departments' neighbourhoods side by side on top,
    meeting rooms bottom left, a shared zone (café on the ground floor)."""
    fid = f"{code}-f{level}"
    zw = FLOOR_W / len(depts)
    zones: list[dict[str, Any]] = []
    for j, dept in enumerate(depts):
        zid = f"{fid}-{dept.split('-', 1)[1]}"
        n = per_floor // len(depts)
        zones.append(
            {
                "id": zid,
                "name": f"{dept.split('-', 1)[1].upper()} {level}",
                "kind": "neighbourhood",
                "department": dept,
                "x": round(j * zw, 2),
                "y": 0.0,
                "width": round(zw, 2),
                "height": 18.0,
                "desks": _desks(zid, j * zw, zw, n),
            }
        )
    rooms = _rooms(fid, min(len(_ROOMS), max(3, per_floor // 15)))
    zones.append(
        {"id": f"{fid}-meet", "name": "Meeting rooms", "kind": "meeting",
         "x": 0.0, "y": 19.0, "width": 42.0, "height": 13.0, "rooms": rooms}
    )  # fmt: skip
    cafe = level == 0
    zones.append(
        {"id": f"{fid}-{'cafe' if cafe else 'lounge'}",
         "name": "Café" if cafe else f"Lounge {level}", "kind": "shared",
         "capacity": 40 if cafe else 15,
         "x": 43.0, "y": 19.0, "width": 17.0, "height": 13.0}
    )  # fmt: skip
    return {
        "id": fid,
        "level": level,
        "name": "Ground floor" if cafe else f"Floor {level}",
        "width": FLOOR_W,
        "height": FLOOR_H,
        "zones": zones,
    }


def _devices(floors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in floors:
        for z in f["zones"]:
            out += [
                {"id": f"ds-{d['id']}", "kind": "desk_sensor", "space": d["id"]}
                for d in z.get("desks", [])
            ]
            out += [
                {"id": f"rc-{r['id']}", "kind": "room_counter", "space": r["id"]}
                for r in z.get("rooms", [])
            ]
            out.append({"id": f"zc-{z['id']}", "kind": "zone_counter", "zone": z["id"]})
            out.append({"id": f"ble-{z['id']}", "kind": "ble_scanner", "zone": z["id"]})
    return out


def _building_doc(
    code: str, city: City, floors: int, per_floor: int, rng: np.random.Generator
) -> dict[str, Any]:
    """The building file of one portfolio building (one site, one building)."""
    n_depts = int(np.clip(floors + 1, 2, min(len(_DEPARTMENTS), 3 * floors)))
    picks = sorted(rng.choice(len(_DEPARTMENTS), n_depts, replace=False).tolist())
    depts = [_DEPARTMENTS[i] for i in picks]
    on_floor = [[f"{code}-{d[0]}" for d in depts[i::floors]] for i in range(floors)]
    fl = [_floor(code, lvl, on_floor[lvl], per_floor) for lvl in range(floors)]
    desks_of = {
        z["department"]: len(z["desks"])
        for f in fl
        for z in f["zones"]
        if z["kind"] == "neighbourhood"
    }
    departments = []
    for d_id, d_name, offset, colour in depts:
        did = f"{code}-{d_id}"
        share = city.people_per_desk * rng.uniform(0.85, 1.15)
        days = float(np.clip(city.office_days + offset + rng.normal(0, 0.2), 0.5, 4.8))
        departments.append(
            {
                "id": did,
                "name": d_name,
                "headcount": max(1, round(desks_of[did] * share)),
                "color": colour,
                "office_days_per_week": round(days, 2),
            }
        )
    return {
        "site": {
            "id": code,
            "name": f"{city.name} {code[3:]}",
            "timezone": city.timezone,
        },
        "departments": departments,
        "buildings": [{"id": code, "name": f"{city.name} {code[3:]}", "floors": fl}],
        "devices": _devices(fl),
    }


def _add_costs(doc: dict[str, Any], index: int, city: City, rng: Any) -> None:
    """Yearly costs in the building entry: per desk, per m² (with the area),
    both, or none (a quarter each, so every case is in a portfolio)."""
    b = doc["buildings"][0]
    desks = sum(len(z.get("desks", [])) for f in b["floors"] for z in f["zones"])
    b["area_m2"] = float(_M2_PER_DESK * desks)  # lettable area, not the drawn floor
    mode = index % 4
    if mode in (0, 2):
        b["cost_per_desk_year"] = float(
            round(city.cost_per_desk_year * rng.uniform(0.9, 1.1), -1)
        )
    if mode in (1, 2):
        b["cost_per_m2_year"] = float(
            round(city.cost_per_m2_year * rng.uniform(0.9, 1.1))
        )


def _scenario(base: Scenario, city: City, index: int, rng: Any) -> Scenario:
    """The base scenario with the city's habits and the building's badge range."""
    meetings = float(
        np.clip(base.meetings_per_person_day * rng.uniform(0.7, 1.3), 0, 2)
    )
    return base.replace(
        name=f"{base.name}/{city.code}",
        holidays=city.holidays,
        arrival=city.arrival,
        workday_h=city.workday_h,
        lunch=city.lunch,
        meetings_per_person_day=round(meetings, 2),
        badge_offset=index * _BADGES_PER_BUILDING,
    )


def make_portfolio(
    buildings: int,
    *,
    seed: int = 1,
    scale: float = 1.0,
    base: Scenario | None = None,
    cities: tuple[City, ...] = CITIES,
) -> list[PortfolioBuilding]:
    """``buildings`` buildings dealt round the ``cities`` (Amsterdam,
    Rotterdam, London, New York, Singapore...): 1-5 floors of 40-150 desks
    (times ``scale``, at least 6 per floor), 2-8 departments, the city's
    habits and costs. Building ``i`` of a city has the code ``<city><i>``
    (``ams1``, ``lon2``), also its site id and the prefix of all its ids."""
    if buildings < 1:
        raise ValueError(f"buildings must be ≥ 1, got {buildings}")
    if not 0 < scale <= 1.6:
        raise ValueError(f"scale must be in (0, 1.6], got {scale}")
    rng = np.random.default_rng(seed)
    base = base or Scenario()
    seen: dict[str, int] = {}
    out = []
    for i in range(buildings):
        city = cities[i % len(cities)]
        seen[city.code] = seen.get(city.code, 0) + 1
        code = f"{city.code}{seen[city.code]}"
        floors = int(rng.integers(1, 6))
        per_floor = max(6, round(int(rng.choice([40, 60, 80, 100, 120, 150])) * scale))
        doc = _building_doc(code, city, floors, per_floor, rng)
        _add_costs(doc, i, city, rng)
        site = parse_building(doc, f"{code}.yaml")
        out.append(
            PortfolioBuilding(code, city, doc, site, _scenario(base, city, i, rng))
        )
    return out


def truth_summary(intervals: pd.DataFrame, timezone: str) -> dict[str, float | int]:
    """True figures of one building from its ``intervals`` truth table:
    person-days and the mean number of distinct people present per local day
    with anyone present."""
    if intervals.empty:
        return {"true_person_days": 0, "true_mean_daily_people": 0.0}
    day = intervals["start"].dt.tz_convert(timezone).dt.date
    per_day = intervals.assign(day=day).groupby("day")["person_id"].nunique()
    return {
        "true_person_days": int(per_day.sum()),
        "true_mean_daily_people": round(float(per_day.mean()), 2),
    }


def portfolio_manifest(items: list[PortfolioBuilding]) -> pd.DataFrame:
    """One row per building: where, how big, whose habits, what it costs."""
    rows = []
    for b in items:
        bld = b.doc["buildings"][0]
        rows.append(
            {
                "building_id": b.code,
                "site_id": b.site.id,
                "city": b.city.name,
                "timezone": b.site.timezone,
                "floors": len(bld["floors"]),
                "desks": b.desks,
                "rooms": sum(1 for _ in b.site.rooms()),
                "departments": len(b.site.departments),
                "headcount": sum(d.headcount for d in b.site.departments),
                "arrival": b.scenario.arrival,
                "holidays": b.scenario.holidays,
                "area_m2": bld.get("area_m2"),
                "cost_per_desk_year": bld.get("cost_per_desk_year"),
                "cost_per_m2_year": bld.get("cost_per_m2_year"),
                "badge_offset": b.scenario.badge_offset,
            }
        )
    return pd.DataFrame(rows)


def first_monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())
