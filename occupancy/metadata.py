"""Load a validated building model into the metadata tables, and read it back."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from psycopg2.extras import Json, execute_values

from occupancy.building import PolygonT, Site, Space, Zone
from occupancy.db import Connection, read_frame
from occupancy.planned_changes import to_records

logger = logging.getLogger(__name__)

__all__ = ["LoadReport", "load_site", "read_devices", "read_spaces", "read_zones"]


@dataclass(frozen=True)
class LoadReport:
    site_id: str
    buildings: int
    floors: int
    zones: int
    desks: int
    rooms: int
    departments: int
    devices: int
    removed_spaces: int

    def __str__(self) -> str:
        return (
            f"site {self.site_id}: {self.buildings} building(s), {self.floors} floors, "
            f"{self.zones} zones, {self.desks} desks, {self.rooms} rooms, "
            f"{self.departments} departments, {self.devices} devices"
            + (
                f" ({self.removed_spaces} spaces no longer in the file removed)"
                if self.removed_spaces
                else ""
            )
        )


def _upsert(
    cur: object,
    table: str,
    cols: list[str],
    key: list[str],
    rows: list[tuple[object, ...]],
) -> None:
    if not rows:
        return
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in key)
    # Table and column names are fixed strings from this module, never user input.
    query = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES %s "  # noqa: S608
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )
    execute_values(cur, query, rows, page_size=1000)


def _poly(p: PolygonT | None) -> Json | None:
    return None if p is None else Json([list(pt) for pt in p])


def load_site(conn: Connection, site: Site) -> LoadReport:
    """Insert or update the site's metadata in one transaction. Spaces and zones
    of this site that the file no longer has are removed; devices that are no
    longer named become unassigned (their history stays)."""
    with conn, conn.cursor() as cur:
        _write_site(cur, site)
        removed = _write_spaces(cur, site)
        _write_devices(cur, site)
    report = LoadReport(
        site.id,
        len(site.buildings),
        len(list(site.floors())),
        len(list(site.zones())),
        len(list(site.desks())),
        len(list(site.rooms())),
        len(site.departments),
        len(site.devices),
        removed,
    )
    logger.info("loaded %s", report)
    return report


def _write_site(cur: Any, site: Site) -> None:
    c = site.calendar
    _upsert(
        cur,
        "sites",
        ["site_id", "name", "timezone", "country", "working_hours",
         "working_days", "holidays", "planned_changes"],
        ["site_id"],
        [(site.id, site.name, site.timezone, c.country, c.working_hours,
          None if c.working_days is None else list(c.working_days),
          None if c.holidays is None else list(c.holidays),
          Json(to_records(site.planned_changes)))],
    )  # fmt: skip
    # parent_id is deferred: a team may come before its department in the file.
    cur.execute("SET CONSTRAINTS ALL DEFERRED")
    _upsert(
        cur,
        "departments",
        ["department_id", "site_id", "name", "headcount", "color", "parent_id"],
        ["department_id"],
        [
            (d.id, site.id, d.name, d.headcount, d.color, d.parent_id)
            for d in site.departments
        ],
    )
    _upsert(
        cur,
        "buildings",
        [
            "building_id",
            "site_id",
            "name",
            "area_m2",
            "cost_per_m2_year",
            "cost_per_desk_year",
        ],
        ["building_id"],
        [
            (b.id, site.id, b.name, b.area_m2, b.cost_per_m2_year, b.cost_per_desk_year)
            for b in site.buildings
        ],
    )
    _upsert(
        cur,
        "floors",
        ["floor_id", "building_id", "level", "name", "width_m", "height_m"],
        ["floor_id"],
        [
            (f.id, f.building_id, f.level, f.name, f.width, f.height)
            for f in site.floors()
        ],
    )


_ZONE_COLS = ["zone_id", "floor_id", "name", "kind", "department_id", "capacity"]
_SPACE_COLS = ["space_id", "zone_id", "kind", "name", "capacity"]
_SHAPE_COLS = ["x", "y", "width", "height", "polygon"]


def _zone_row(z: Zone) -> tuple[object, ...]:
    head = (z.id, z.floor_id, z.name, z.kind, z.department_id, z.capacity)
    return (*head, z.x, z.y, z.width, z.height, _poly(z.polygon))


def _space_row(s: Space) -> tuple[object, ...]:
    head = (s.id, s.zone_id, s.kind, s.name, s.capacity)
    return (
        *head,
        s.x,
        s.y,
        s.width,
        s.height,
        _poly(s.polygon),
        s.assigned,
        s.calendar,
    )


def _write_spaces(cur: Any, site: Site) -> int:
    """Zones, desks and rooms; returns how many spaces no longer in the file
    were removed."""
    zones = list(site.zones())
    spaces = list(site.spaces())
    _upsert(
        cur,
        "zones",
        _ZONE_COLS + _SHAPE_COLS,
        ["zone_id"],
        [_zone_row(z) for z in zones],
    )
    _upsert(
        cur,
        "spaces",
        [*_SPACE_COLS, *_SHAPE_COLS, "assigned", "calendar"],
        ["space_id"],
        [_space_row(s) for s in spaces],
    )
    building_ids = [b.id for b in site.buildings]
    cur.execute(
        """DELETE FROM spaces s USING zones z, floors f
           WHERE s.zone_id = z.zone_id AND z.floor_id = f.floor_id
             AND f.building_id = ANY(%s) AND NOT (s.space_id = ANY(%s))""",
        (building_ids, [s.id for s in spaces]),
    )
    removed: int = cur.rowcount
    cur.execute(
        """DELETE FROM zones z USING floors f WHERE z.floor_id = f.floor_id
             AND f.building_id = ANY(%s) AND NOT (z.zone_id = ANY(%s))""",
        (building_ids, [z.id for z in zones]),
    )
    return removed


def _write_devices(cur: Any, site: Site) -> None:
    _upsert(
        cur,
        "devices",
        [
            "device_id",
            "site_id",
            "kind",
            "family",
            "space_id",
            "zone_id",
            "topic",
            "assigned",
        ],
        ["device_id"],
        [
            (d.id, site.id, d.kind, d.family, d.space_id, d.zone_id, d.topic, True)
            for d in site.devices
        ],
    )
    cur.execute(
        "UPDATE devices SET assigned = false, space_id = NULL, zone_id = NULL "
        "WHERE site_id = %s AND assigned AND NOT (device_id = ANY(%s))",
        (site.id, [d.id for d in site.devices]),
    )


def read_spaces(conn: Connection) -> pd.DataFrame:
    """Desks and rooms with their zone, floor, building and department;
    ``polygon`` is a list of [x, y] or None (rectangle)."""
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT s.space_id, s.kind, s.name, s.capacity, s.x, s.y, s.width, s.height,
                  s.polygon, s.assigned, s.calendar, s.zone_id, z.kind AS zone_kind, z.department_id, z.floor_id, f.building_id
             FROM spaces s JOIN zones z USING (zone_id) JOIN floors f USING (floor_id)
            ORDER BY s.space_id""",
    )
    return frame


def read_zones(conn: Connection) -> pd.DataFrame:
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT z.zone_id, z.name, z.kind, z.department_id, z.capacity, z.polygon,
                  z.floor_id, f.building_id
             FROM zones z JOIN floors f USING (floor_id) ORDER BY z.zone_id""",
    )
    return frame


def read_devices(conn: Connection) -> pd.DataFrame:
    frame: pd.DataFrame = read_frame(
        conn,
        "SELECT device_id, site_id, kind, family, space_id, zone_id, topic, assigned "
        "FROM devices ORDER BY device_id",
    )
    return frame
