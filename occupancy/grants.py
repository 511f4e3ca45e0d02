"""Least privilege: which service role may do what on each table.

One line per table in :data:`TABLE_GRANTS` (a new table = a new line; a test
fails for a table missing here). :func:`apply_grants` runs after every
``occupancy db migrate``: it revokes what the service roles hold on each table
and grants exactly what the map says, so it is idempotent and the map is the
whole truth. The roles are created by migration 0300; the migrations owner
(the account that runs ``db migrate``) owns every table and is used by no
long-running service.

Privileges are SQL privilege lists; a column list (``SELECT (a, b)``) grants
those columns only.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, NamedTuple

from psycopg2 import sql

if TYPE_CHECKING:
    import psycopg2.extensions

    from occupancy.db import Connection

logger = logging.getLogger(__name__)

__all__ = ["ROLES", "TABLE_GRANTS", "Access", "apply_grants", "set_role_passwords"]

INGESTER = "occupancy_ingester"
ANALYTICS = "occupancy_analytics"
DASHBOARD = "occupancy_dashboard"
#: Service roles and the setting holding each one's login password.
ROLES: dict[str, str] = {
    INGESTER: "ingester_db_password",
    ANALYTICS: "analytics_db_password",
    DASHBOARD: "dashboard_db_password",
}


class Access(NamedTuple):
    """Privileges of each service role on one table ("" = none)."""

    ingester: str = ""
    analytics: str = ""
    dashboard: str = ""


R = "SELECT"
RW = "SELECT, INSERT, UPDATE, DELETE"  # analytics replaces its rollup days
#: Space sensors' columns the dashboard's live floor map reads (never badges).
LIVE = "SELECT (ts, device_id, space_id, kind, value)"

TABLE_GRANTS: dict[str, Access] = {
    # metadata (written by `building load` as the owner)
    "sites": Access(R, R, R),
    "buildings": Access(R, R, R),
    "departments": Access(R, R, R),
    "floors": Access(R, R, R),
    "zones": Access(R, R, R),
    "spaces": Access(R, R, R),
    "devices": Access("SELECT, INSERT", R, R),  # the ingester adds discovered devices
    "badge_departments": Access(R, R),
    "schema_migrations": Access(R, R, R),
    # raw data (ingest writes, analytics reads; no UPDATE/DELETE: retention is the
    # owner's). The ingester's SELECT: its staging tables are CREATE TEMP TABLE
    # (LIKE sensor_events), which PostgreSQL allows only with SELECT on the table.
    "sensor_events": Access("SELECT, INSERT", R, LIVE),
    "badge_sightings": Access("SELECT, INSERT", R),
    # analytics: the notifier's rejected-rate alert counts them
    "rejected_messages": Access(
        "INSERT", "SELECT (received_at, reason)", "SELECT (received_at, reason)"
    ),
    "device_health": Access("SELECT, INSERT, UPDATE", R, R),
    "ingest_stats": Access("SELECT, INSERT, UPDATE", "", R),
    "ingest_arrival_batches": Access("SELECT, INSERT, DELETE"),
    # rollups (analytics writes, the dashboard reads)
    "desk_daily_utilization": Access("", RW, R),
    "analytics_space_daily": Access("", RW, R),
    "analytics_space_hourly": Access("", RW, R),
    "analytics_space_month": Access("", RW, R),
    "analytics_space_month_done": Access("", RW, R),
    "analytics_level_buckets": Access("", RW, R),
    "analytics_level_hourly": Access("", RW, R),
    "analytics_room_headcount": Access("", RW, R),
    "analytics_dept_presence": Access("", RW, R),
    "analytics_data_quality": Access("", RW, R),
    "analytics_bookings": Access("", RW, R),
    "analytics_watermark": Access("", RW, R),
    "analytics_coloc_pairs": Access("", RW, R),
    "analytics_coloc_zone": Access("", RW, R),
    "analytics_coloc_dept": Access("", RW, R),
    "analytics_coloc_bits": Access("", RW, R),
    "analytics_coloc_bits_site": Access("", RW, R),
    "analytics_coloc_week": Access("", RW, R),
    "analytics_coloc_week_bits": Access("", RW, R),
    # badge -> integer code of the co-location bitmaps (analyze adds codes)
    "analytics_badge_codes": Access("", RW, R),
    # devices heard but not placed (the ingester upserts; the Devices page reads)
    "device_observations": Access("SELECT, INSERT, UPDATE", "", R),
    # HR memberships with history (`people import`, as the owner)
    "badge_memberships": Access("", R),
    # bookings synced from calendars (`bookings sync`, as analytics)
    "calendar_booking_events": Access("", RW, R),
    "calendar_sync_state": Access("", RW),
    # JSON API tokens: created and revoked by the owner (`api token ...`); the
    # API (dashboard role) checks them and stamps last_used_at
    "api_tokens": Access("", "", "SELECT, UPDATE (last_used_at)"),
    # notifier (`alerts run`, `webhooks run`, as the analytics role)
    "webhook_subscriptions": Access("", RW),
    "webhook_outbox": Access("", RW),
    "webhook_deliveries": Access("", RW),
    "notify_space_state": Access("", RW),
    "alerts": Access("", RW),
}

_PRIV = re.compile(
    r"^(SELECT|INSERT|UPDATE|DELETE|TRUNCATE|REFERENCES|TRIGGER)"
    r"(?:\s*\(\s*([a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*)\s*\))?$"
)


def _privileges(spec: str) -> list[tuple[str, list[str]]]:
    """``"SELECT (a, b), INSERT"`` -> ``[("SELECT", ["a", "b"]), ("INSERT", [])]``."""
    out: list[tuple[str, list[str]]] = []
    for raw in re.split(r",(?![^(]*\))", spec):
        part = raw.strip()
        if not part:
            continue
        m = _PRIV.match(part)
        if m is None:
            raise ValueError(f"grants: cannot read privilege {part!r}")
        cols = [c.strip() for c in (m.group(2) or "").split(",") if c.strip()]
        out.append((m.group(1), cols))
    return out


def public_tables(cur: psycopg2.extensions.cursor) -> list[str]:
    """Tables of the public schema (hypertables included, chunks not)."""
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')"
        " ORDER BY 1"
    )
    return [str(r[0]) for r in cur.fetchall()]


def _grant_table(cur: psycopg2.extensions.cursor, table: str, access: Access) -> None:
    ident = sql.Identifier(table)
    roles = sql.SQL(", ").join(map(sql.Identifier, ROLES))
    cur.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(ident, roles))
    for role, spec in zip(ROLES, access, strict=True):
        privs = _privileges(spec)
        for priv, cols in privs:
            col_sql = (
                sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, cols)))
                if cols
                else sql.SQL("")
            )
            cur.execute(
                sql.SQL("GRANT {}{} ON TABLE {} TO {}").format(
                    sql.SQL(priv), col_sql, ident, sql.Identifier(role)
                )
            )
        if any(priv == "INSERT" for priv, _ in privs):
            _grant_sequences(cur, table, role)


def _grant_sequences(cur: psycopg2.extensions.cursor, table: str, role: str) -> None:
    """USAGE on the sequences of ``table``'s serial columns (for INSERT)."""
    cur.execute(
        "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " WHERE s.relkind = 'S' AND t.relname = %s AND d.deptype IN ('a', 'i')",
        (table,),
    )
    for (seq,) in cur.fetchall():
        cur.execute(
            sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(
                sql.Identifier(seq), sql.Identifier(role)
            )
        )


def apply_grants(conn: Connection) -> list[str]:
    """Grant every table's privileges from :data:`TABLE_GRANTS` (idempotent).

    Returns the tables of the schema that the map does not name: no service
    role gets anything on them (fail closed), and a warning names them.
    """
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(8211001)")
        cur.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", (list(ROLES),)
        )
        row = cur.fetchone()
        if not row or row[0] < len(ROLES):
            logger.info("service roles not created yet: no grants")
            return []
        roles = sql.SQL(", ").join(map(sql.Identifier, ROLES))
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(roles))
        tables = public_tables(cur)
        for table in tables:
            access = TABLE_GRANTS.get(table)
            if access is not None:
                _grant_table(cur, table, access)
    unknown = [t for t in tables if t not in TABLE_GRANTS]
    if unknown:
        logger.warning(
            "tables without a line in occupancy/grants.py TABLE_GRANTS (no service "
            "role may use them): %s",
            ", ".join(unknown),
        )
    return unknown


def set_role_passwords(conn: Connection, passwords: dict[str, str | None]) -> list[str]:
    """Give each service role whose password is set LOGIN with that password;
    returns the roles changed. ``passwords``: role -> password or None."""
    changed = []
    with conn, conn.cursor() as cur:
        for role, password in passwords.items():
            if not password:
                continue
            cur.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)),
                (password,),
            )
            changed.append(role)
    return changed
