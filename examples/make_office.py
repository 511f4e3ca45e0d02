"""Generate examples/office.yaml: one building, 3 floors, ~300 desks, 25 meeting
rooms, 8 departments, shared zones (cafe, project space, lounge) and a sensor on
every desk and room, counters and BLE scanners in every zone.

Run ``python examples/make_office.py > examples/office.yaml``; the output is
deterministic. Also usable as a library: ``make_office(floors=..., ...)`` builds
larger synthetic buildings for benchmarks.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

DEPARTMENTS = [
    # id, name, headcount, colour (Okabe-Ito, colour-blind safe), office days/week
    ("finance", "Finance", 48, "#E69F00", 2.6),
    ("hr", "HR", 22, "#56B4E9", 2.4),
    ("it", "IT", 60, "#009E73", 2.2),
    ("marketing", "Marketing", 44, "#F0E442", 2.8),
    ("sales", "Sales", 70, "#0072B2", 2.0),
    ("legal", "Legal", 24, "#D55E00", 3.0),
    ("operations", "Operations", 56, "#CC79A7", 3.2),
    ("rnd", "R&D", 76, "#000000", 2.5),
]

# Per floor: neighbourhood departments (left to right), the shared zone, rooms.
FLOORS = [
    (
        0,
        "Ground floor",
        ["operations", "hr"],
        ("cafe", "Café", "shared"),
        [
            ("phone_booth", 1),
            ("phone_booth", 1),
            ("focus_room", 2),
            ("meeting_room", 4),
            ("meeting_room", 6),
            ("meeting_room", 8),
            ("meeting_room", 12),
            ("meeting_room", 20),
        ],
    ),
    (
        1,
        "First floor",
        ["finance", "legal", "marketing"],
        ("project", "Project space", "shared"),
        [
            ("phone_booth", 1),
            ("focus_room", 2),
            ("meeting_room", 4),
            ("meeting_room", 4),
            ("meeting_room", 6),
            ("meeting_room", 6),
            ("meeting_room", 8),
            ("meeting_room", 10),
        ],
    ),
    (
        2,
        "Second floor",
        ["it", "rnd", "sales"],
        ("lounge", "Lounge", "shared"),
        [
            ("phone_booth", 1),
            ("phone_booth", 1),
            ("focus_room", 2),
            ("meeting_room", 4),
            ("meeting_room", 4),
            ("meeting_room", 6),
            ("meeting_room", 8),
            ("meeting_room", 8),
            ("meeting_room", 14),
        ],
    ),
]

FLOOR_W, FLOOR_H = 60.0, 32.0
DESK_W, DESK_H = 1.6, 0.8
PITCH_X, PITCH_Y = 2.2, 1.8


def _desk_grid(
    zone_id: str, x0: float, y0: float, w: float, h: float, n: int
) -> list[dict[str, Any]]:
    cols = int((w - 1.0) // PITCH_X)
    desks = []
    for i in range(n):
        r, c = divmod(i, cols)
        x = round(x0 + 0.7 + c * PITCH_X, 2)
        y = round(y0 + 0.7 + r * PITCH_Y, 2)
        if y + DESK_H > y0 + h:
            raise ValueError(f"{zone_id}: {n} desks do not fit")
        desks.append(
            {
                "id": f"{zone_id}-d{i + 1:03d}",
                "x": x,
                "y": y,
                "width": DESK_W,
                "height": DESK_H,
            }
        )
    return desks


def make_office(
    desks_per_floor: int = 100,
    site_id: str = "hq",
    floors: list[Any] | None = None,
    departments: list[Any] | None = None,
) -> dict[str, Any]:
    floors = FLOORS if floors is None else floors
    departments = DEPARTMENTS if departments is None else departments
    doc: dict[str, Any] = {
        "site": {
            "id": site_id,
            "name": "Headquarters Utrecht",
            "timezone": "Europe/Amsterdam",
        },
        "departments": [
            {
                "id": d,
                "name": n,
                "headcount": hc,
                "color": col,
                "office_days_per_week": days,
            }
            for d, n, hc, col, days in departments
        ],
        "buildings": [],
        "devices": [],
    }
    out_floors = []
    devices = doc["devices"]
    for level, fname, depts, (sid, sname, skind), rooms in floors:
        fid = f"f{level}"
        zones = []
        zw = FLOOR_W / len(depts)
        per = desks_per_floor // len(depts)
        for j, dept in enumerate(depts):
            zid = f"{fid}-{dept}"
            desks = _desk_grid(zid, j * zw, 0.0, zw, 18.0, per)
            zones.append(
                {
                    "id": zid,
                    "name": f"{dict((d[0], d[1]) for d in departments)[dept]} neighbourhood",
                    "kind": "neighbourhood",
                    "department": dept,
                    "x": round(j * zw, 2),
                    "y": 0.0,
                    "width": round(zw, 2),
                    "height": 18.0,
                    "desks": desks,
                }
            )
        # Meeting rooms along the bottom left, shared zone bottom right.
        mz = {
            "id": f"{fid}-meet",
            "name": "Meeting rooms",
            "kind": "meeting",
            "x": 0.0,
            "y": 19.0,
            "width": 42.0,
            "height": 13.0,
            "rooms": [],
        }
        x = 0.5
        for k, (rkind, cap) in enumerate(rooms):
            rw = {
                1: 1.6,
                2: 2.6,
                4: 3.4,
                6: 4.2,
                8: 5.0,
                10: 5.5,
                12: 6.0,
                14: 6.5,
                20: 8.0,
            }[cap]
            mz["rooms"].append(
                {
                    "id": f"{fid}-r{k + 1:02d}",
                    "name": f"{fname.split()[0]} {rkind.replace('_', ' ')} {k + 1}",
                    "kind": rkind,
                    "capacity": cap,
                    "x": round(x, 2),
                    "y": 20.0,
                    "width": rw,
                    "height": 5.0 if cap > 2 else 2.5,
                }
            )
            x += rw + 0.3
        if x > 42.0:
            raise ValueError(f"{fid}: rooms do not fit ({x:.1f} m)")
        shared_cap = {"cafe": 60, "project": 30, "lounge": 20}.get(sid, 20)
        sz = {
            "id": f"{fid}-{sid}",
            "name": sname,
            "kind": skind,
            "capacity": shared_cap,
            "x": 43.0,
            "y": 19.0,
            "width": 17.0,
            "height": 13.0,
        }
        zones += [mz, sz]
        out_floors.append(
            {
                "id": fid,
                "level": level,
                "name": fname,
                "width": FLOOR_W,
                "height": FLOOR_H,
                "zones": zones,
            }
        )
        for z in zones:
            for d in z.get("desks", []):
                devices.append(
                    {"id": f"ds-{d['id']}", "kind": "desk_sensor", "space": d["id"]}
                )
            for r in z.get("rooms", []):
                devices.append(
                    {"id": f"rc-{r['id']}", "kind": "room_counter", "space": r["id"]}
                )
            devices.append(
                {"id": f"zc-{z['id']}", "kind": "zone_counter", "zone": z["id"]}
            )
            devices.append(
                {"id": f"ble-{z['id']}", "kind": "ble_scanner", "zone": z["id"]}
            )
    doc["buildings"].append(
        {"id": "main", "name": "Main building", "floors": out_floors}
    )
    return doc


class _Dumper(yaml.SafeDumper):
    pass


def _flow_small(dumper: yaml.SafeDumper, data: dict[str, Any]) -> Any:
    flow = (
        all(not isinstance(v, (list, dict)) for v in data.values())
        and len(data) <= 8
        and "id" in data
        and ("x" in data or "kind" in data)
        and "rooms" not in data
        and "desks" not in data
    )
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


_Dumper.add_representer(dict, _flow_small)


def dump(doc: dict[str, Any]) -> str:
    header = (
        "# Example building: generated by examples/make_office.py (edit that, not this).\n"
        "# Format: docs/building.md. Units: metres; x, y from the floor's top-left corner.\n"
    )
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=200)


if __name__ == "__main__":
    sys.stdout.write(dump(make_office()))
