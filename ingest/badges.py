"""The badge register import: pseudonymised badge → department."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from psycopg2.extras import execute_values

from occupancy.db import Connection
from occupancy.pseudonym import pseudonymise

logger = logging.getLogger(__name__)

__all__ = ["BadgeImportError", "import_badges"]


class BadgeImportError(ValueError):
    """The badge file is unusable; the message names the line or department."""


def import_badges(
    conn: Connection,
    key: str | None,
    rows: Sequence[tuple[str, str]],
    *,
    replace: bool = False,
) -> int:
    """Store ``(pseudonymise(key, badge_id), department_id)`` for each row, in
    one transaction. Unknown departments are refused by name."""
    pseudo = [(pseudonymise(key, badge), dept) for badge, dept in rows]
    with conn, conn.cursor() as cur:
        cur.execute("SELECT department_id FROM departments")
        known = {r[0] for r in cur.fetchall()}
        unknown = sorted({d for _, d in pseudo} - known)
        if unknown:
            raise BadgeImportError(f"unknown department(s): {', '.join(unknown[:10])}")
        if replace:
            cur.execute("DELETE FROM badge_departments")
        execute_values(
            cur,
            "INSERT INTO badge_departments (badge, department_id) VALUES %s "
            "ON CONFLICT (badge) DO UPDATE SET department_id = EXCLUDED.department_id, "
            "imported_at = now()",
            pseudo,
        )
    return len(pseudo)
