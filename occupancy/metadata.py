"""Load a validated building model into the metadata tables, and read it back."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
from psycopg2.extras import execute_values

from occupancy.building import Site
from occupancy.db import Connection, read_frame

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


def load_site(conn: Connection, site: Site) -> LoadReport:
    """Insert or update the site's metadata in one transaction. Spaces and zones
    of this site that the file no longer has are removed; devices that are no
    longer named become unassigned (their history stays)."""
    floors = list(site.floors())
    zones = list(site.zones())
    desks = list(site.desks())
    rooms = list(site.rooms())
    with conn, conn.cursor() as cur:
        _upsert(
            cur,
            "sites",
            ["site_id", "name", "timezone"],
            ["site_id"],
            [(site.id, site.name, site.timezone)],
        )
        _upsert(
            cur,
            "departments",
            ["department_id", "site_id", "name", "headcount", "color"],
            ["department_id"],
            [(d.id, site.id, d.name, d.headcount, d.color) for d in site.departments],
        )
        _upsert(
            cur,
            "buildings",
            ["building_id", "site_id", "name"],
            ["building_id"],
            [(b.id, site.id, b.name) for b in site.buildings],
        )
        _upsert(
            cur,
            "floors",
            ["floor_id", "building_id", "level", "name", "width_m", "height_m"],
            ["floor_id"],
            [(f.id, f.building_id, f.level, f.name, f.width, f.height) for f in floors],
        )
        _upsert(
            cur,
            "zones",
            [
                "zone_id",
                "floor_id",
                "name",
                "kind",
                "department_id",
                "capacity",
                "x",
                "y",
                "width",
                "height",
            ],
            ["zone_id"],
            [
                (
                    z.id,
                    z.floor_id,
                    z.name,
                    z.kind,
                    z.department_id,
                    z.capacity,
                    z.x,
                    z.y,
                    z.width,
                    z.height,
                )
                for z in zones
            ],
        )
        _upsert(
            cur,
            "spaces",
            [
                "space_id",
                "zone_id",
                "kind",
                "name",
                "capacity",
                "x",
                "y",
                "width",
                "height",
            ],
            ["space_id"],
            [
                (
                    s.id,
                    s.zone_id,
                    s.kind,
                    s.name,
                    s.capacity,
                    s.x,
                    s.y,
                    s.width,
                    s.height,
                )
                for s in desks + rooms
            ],
        )
        building_ids = [b.id for b in site.buildings]
        cur.execute(
            """DELETE FROM spaces s USING zones z, floors f
               WHERE s.zone_id = z.zone_id AND z.floor_id = f.floor_id
                 AND f.building_id = ANY(%s) AND NOT (s.space_id = ANY(%s))""",
            (building_ids, [s.id for s in desks + rooms]),
        )
        removed = cur.rowcount
        cur.execute(
            """DELETE FROM zones z USING floors f WHERE z.floor_id = f.floor_id
                 AND f.building_id = ANY(%s) AND NOT (z.zone_id = ANY(%s))""",
            (building_ids, [z.id for z in zones]),
        )
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
    report = LoadReport(
        site.id,
        len(site.buildings),
        len(floors),
        len(zones),
        len(desks),
        len(rooms),
        len(site.departments),
        len(site.devices),
        removed,
    )
    logger.info("loaded %s", report)
    return report


def read_spaces(conn: Connection) -> pd.DataFrame:
    """Desks and rooms with their zone, floor, building and department."""
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT s.space_id, s.kind, s.name, s.capacity, s.x, s.y, s.width, s.height,
                  s.zone_id, z.kind AS zone_kind, z.department_id, z.floor_id, f.building_id
             FROM spaces s JOIN zones z USING (zone_id) JOIN floors f USING (floor_id)
            ORDER BY s.space_id""",
    )
    return frame


def read_zones(conn: Connection) -> pd.DataFrame:
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT z.zone_id, z.name, z.kind, z.department_id, z.capacity, z.floor_id, f.building_id
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
