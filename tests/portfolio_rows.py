"""Hand-made portfolio data for the portfolio tests: small one-floor
buildings, and sensor reports every 5 minutes over local working hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from analytics.pipeline import run_analyze
from occupancy.building import parse_building
from occupancy.db import connect, copy_rows, migrate
from occupancy.metadata import load_site
from occupancy.settings import load_settings

TUE, WED = dt.date(2026, 3, 3), dt.date(2026, 3, 4)


def site_doc(
    code: str, tz: str, desks: int, *, rooms: int = 0, **costs: float
) -> dict[str, Any]:
    """A one-floor building: ``desks`` desks and ``rooms`` 4-seat rooms."""
    desk_list = [
        {
            "id": f"{code}-d{i}",
            "x": 1.0 + 2.0 * i,
            "y": 1.0,
            "width": 1.6,
            "height": 0.8,
        }
        for i in range(1, desks + 1)
    ]
    room_list = [
        {"id": f"{code}-r{i}", "capacity": 4, "x": 1.0 + 4.0 * i, "y": 5.0,
         "width": 3.0, "height": 3.0}
        for i in range(1, rooms + 1)
    ]  # fmt: skip
    zone = {"id": f"{code}-z", "kind": "neighbourhood", "department": f"{code}-dept",
            "x": 0.0, "y": 0.0, "width": 30.0, "height": 10.0,
            "desks": desk_list, "rooms": room_list}  # fmt: skip
    devices = [{"id": f"ds-{d['id']}", "kind": "desk_sensor", "space": d["id"]}
               for d in desk_list]  # fmt: skip
    devices += [{"id": f"rc-{r['id']}", "kind": "room_counter", "space": r["id"]}
                for r in room_list]  # fmt: skip
    return {
        "site": {"id": code, "name": code.upper(), "timezone": tz},
        "departments": [{"id": f"{code}-dept", "name": "Staff", "headcount": 10}],
        "buildings": [{"id": code, "name": f"Building {code}", **costs,
                       "floors": [{"id": f"{code}-f0", "level": 0, "width": 30.0,
                                   "height": 10.0, "zones": [zone]}]}],
        "devices": devices,
    }  # fmt: skip


def reports(
    space: str,
    tz: str,
    day: dt.date,
    busy: list[tuple[str, str]],
    kind: str,
    value: float,
) -> list[tuple[Any, ...]]:
    """A report every 5 min 08:00-18:00 local: ``value`` inside ``busy``
    (local HH:MM spans), else 0."""
    t = pd.date_range(f"{day} 08:00", f"{day} 17:55", freq="5min", tz=tz)
    on = pd.Series(False, index=t)
    for a, b in busy:
        on |= (t >= pd.Timestamp(f"{day} {a}", tz=tz)) & (
            t < pd.Timestamp(f"{day} {b}", tz=tz)
        )
    dev = ("ds-" if kind == "presence" else "rc-") + space
    return [
        (ts.tz_convert("UTC").to_pydatetime(), dev, space, kind, value if o else 0.0, i)
        for i, (ts, o) in enumerate(on.items())
    ]


def load(url: str, docs: list[dict[str, Any]], rows: list[tuple[Any, ...]]) -> None:
    conn = connect(url)
    try:
        migrate(conn)
        for d in docs:
            load_site(conn, parse_building(d))
        with conn, conn.cursor() as cur:
            copy_rows(cur, "sensor_events",
                      ["ts", "device_id", "space_id", "kind", "value", "seq"], rows)  # fmt: skip
    finally:
        conn.close()


def seed_two_buildings(url: str) -> None:
    """pa: 4 desks at 1,500 EUR/desk/year (6,000 a year), a 4-seat room;
    pb: 2 desks, 100 m² at 300 EUR/m²/year (30,000 a year). Both Amsterdam.
    pa: Tue a1+a2 09-11 (peak 2 desks), Wed a1 09-10 (peak 1), room: 1
    person Tue 14-15. pb: both desks 09-17 on Tue and Wed (peak 2)."""
    tz = "Europe/Amsterdam"
    docs = [
        site_doc("pa", tz, 4, rooms=1, cost_per_desk_year=1500.0),
        site_doc("pb", tz, 2, area_m2=100.0, cost_per_m2_year=300.0),
    ]
    rows = reports("pa-d1", tz, TUE, [("09:00", "11:00")], "presence", 1.0)
    rows += reports("pa-d2", tz, TUE, [("09:00", "11:00")], "presence", 1.0)
    rows += reports("pa-d1", tz, WED, [("09:00", "10:00")], "presence", 1.0)
    rows += reports("pa-d2", tz, WED, [], "presence", 1.0)
    for d in ("pa-d3", "pa-d4"):
        rows += reports(d, tz, TUE, [], "presence", 1.0) + reports(
            d, tz, WED, [], "presence", 1.0
        )
    rows += reports("pa-r1", tz, TUE, [("14:00", "15:00")], "count", 1.0)
    rows += reports("pa-r1", tz, WED, [], "count", 1.0)
    for d in ("pb-d1", "pb-d2"):
        for day in (TUE, WED):
            rows += reports(d, tz, day, [("09:00", "17:00")], "presence", 1.0)
    load(url, docs, rows)
    conn = connect(url)
    try:
        settings = load_settings({"database_url": url, "site": "pa"})
        run_analyze(conn, settings, full=True, progress=lambda m: None)
    finally:
        conn.close()
