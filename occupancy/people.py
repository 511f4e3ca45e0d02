"""Departments from HR: ``occupancy people import FILE.csv`` with badge id,
department, valid_from, valid_to. Membership keeps its history (a
reorganisation does not rewrite last year's co-location); raw badge ids are
pseudonymised on import exactly as at ingest (:func:`pseudonymise`) and never
stored. Parsing and checks are pure; :func:`store_memberships` does the I/O."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg2.extras import execute_values

from occupancy.db import Connection
from occupancy.pseudonym import normalise_badge_id, pseudonymise

logger = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "Membership",
    "PeopleImportError",
    "parse_people_csv",
    "store_memberships",
]

#: Columns of the HR file (a header row names them; other columns are ignored).
COLUMNS = ("badge_id", "department", "valid_from", "valid_to")
_MAX_ERRORS = 20


class PeopleImportError(ValueError):
    """The file is refused; ``errors`` lists each problem as 'line N: field: why'."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.errors = errors
        more = "\n  ... and more" if len(errors) >= _MAX_ERRORS else ""
        super().__init__(
            f"{source}: {len(errors)} problem(s), nothing imported:\n  "
            + "\n  ".join(errors[:_MAX_ERRORS])
            + more
        )


@dataclass(frozen=True)
class Membership:
    """One row: the *raw* badge id (pseudonymised by :func:`store_memberships`),
    department, valid_from and valid_to (local dates, both included; None =
    still a member) and the file's line number."""

    badge_id: str
    department: str
    valid_from: dt.date
    valid_to: dt.date | None
    line: int


def _date(value: str, line: int, field: str, errors: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"line {line}: {field}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def _row(
    row: dict[str, str | None], line: int, known: set[str], errors: list[str]
) -> Membership | None:
    badge = (row.get("badge_id") or "").strip()
    dept = (row.get("department") or "").strip()
    n = len(errors)
    if not badge or not normalise_badge_id(badge):
        errors.append(f"line {line}: badge_id: empty")
    if dept not in known:
        errors.append(
            f"line {line}: department: unknown department {dept!r}"
            " (load it with `occupancy building load` first)"
        )
    start = _date(row.get("valid_from") or "", line, "valid_from", errors)
    raw_to = (row.get("valid_to") or "").strip()
    end = _date(raw_to, line, "valid_to", errors) if raw_to else None
    if start and end and end < start:
        errors.append(f"line {line}: valid_to: {end} is before valid_from {start}")
    if len(errors) > n or start is None:
        return None
    return Membership(badge, dept, start, end, line)


def parse_people_csv(
    text: str, known_departments: Iterable[str], source: str = "people.csv"
) -> list[Membership]:
    """Every row checked; any problem refuses the whole file (PeopleImportError
    naming line and field): unknown departments, bad dates, a badge in two
    departments at once (overlapping periods)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise PeopleImportError(
            source,
            [
                f"line 1: missing column(s) {', '.join(missing)}; need {','.join(COLUMNS)}"
            ],
        )
    known = set(known_departments)
    errors: list[str] = []
    rows = []
    for line, raw in enumerate(reader, start=2):
        m = _row(raw, line, known, errors)
        if m is not None:
            rows.append(m)
    errors += _overlaps(rows)
    if errors:
        raise PeopleImportError(source, errors)
    if not rows:
        raise PeopleImportError(source, ["no rows"])
    return rows


def _overlaps(rows: list[Membership]) -> list[str]:
    out = []
    by_badge: dict[str, list[Membership]] = {}
    for m in rows:
        by_badge.setdefault(normalise_badge_id(m.badge_id), []).append(m)
    for items in by_badge.values():
        items.sort(key=lambda m: m.valid_from)
        for a, b in itertools.pairwise(items):
            if a.valid_to is None or a.valid_to >= b.valid_from:
                out.append(
                    f"line {b.line}: valid_from: {b.valid_from} overlaps line {a.line}"
                    f" ({a.department} from {a.valid_from} to {a.valid_to or 'open'})"
                    " for the same badge"
                )
    return out


def store_memberships(
    conn: Connection,
    key: str | None,
    rows: list[Membership],
    *,
    today: dt.date | None = None,
    replace: bool = False,
) -> tuple[int, int]:
    """Replace the history of every badge in ``rows`` (all badges with
    ``replace``) in one transaction, and point the current badge register
    (badge_departments) at each badge's membership valid today. Returns
    (memberships, badges)."""
    today = today or dt.date.today()
    pseudo = [
        (pseudonymise(key, m.badge_id), m.department, m.valid_from, m.valid_to)
        for m in rows
    ]
    badges = sorted({p[0] for p in pseudo})
    current = [
        (b, d) for b, d, f, t in pseudo if f <= today and (t is None or t >= today)
    ]
    with conn, conn.cursor() as cur:
        if replace:
            cur.execute("DELETE FROM badge_memberships")
        else:
            cur.execute(
                "DELETE FROM badge_memberships WHERE badge = ANY(%s)", (badges,)
            )
        execute_values(
            cur,
            "INSERT INTO badge_memberships (badge, department_id, valid_from, valid_to)"
            " VALUES %s",
            pseudo,
            page_size=1000,
        )
        cur.execute("DELETE FROM badge_departments WHERE badge = ANY(%s)", (badges,))
        if current:
            execute_values(
                cur,
                "INSERT INTO badge_departments (badge, department_id) VALUES %s",
                current,
            )
    logger.info("imported %d memberships of %d badges", len(pseudo), len(badges))
    return len(pseudo), len(badges)
