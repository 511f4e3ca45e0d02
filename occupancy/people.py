"""Departments from HR: ``occupancy people import FILE.csv`` with badge id,
department, valid_from, valid_to. Membership keeps its history (a
reorganisation does not rewrite last year's co-location); raw badge ids are
pseudonymised on import exactly as at ingest (:func:`pseudonymise`) and never
stored. Parsing and checks are pure; :func:`store_memberships` does the I/O."""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import itertools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg2.extras import execute_values

from occupancy.db import Connection
from occupancy.pseudonym import normalise_badge_id, pseudonymise

logger = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "HEADER_ALIASES",
    "Membership",
    "PeopleImportError",
    "decode_people_file",
    "parse_people_csv",
    "store_memberships",
]

#: Columns of the HR file (a header row names them; other columns are ignored).
COLUMNS = ("badge_id", "department", "valid_from", "valid_to")
#: Header names accepted for each column, after lower-casing and turning
#: spaces, dots and hyphens into "_" (English and Dutch HR exports).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "badge_id": (
        "badge_id",
        "badge",
        "badgeid",
        "badge_nr",
        "badgenummer",
        "pasnummer",
    ),
    "department": ("department", "dept", "afdeling"),
    "valid_from": ("valid_from", "from", "start_date", "geldig_van", "ingangsdatum"),
    "valid_to": ("valid_to", "to", "end_date", "geldig_tot", "einddatum"),
}
_MAX_ERRORS = 20
_DMY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


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
    """YYYY-MM-DD (ISO) or DD-MM-YYYY (as Dutch Excel writes dates); slashes
    are refused: 03/04/2026 is 3 April in Europe and 4 March in the US."""
    text = value.strip()
    try:
        dmy = _DMY.match(text)
        if dmy:
            return dt.date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
        if len(text) != 10:  # fromisoformat also takes 20260101, 2026-W01...
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        hint = " (slashes are ambiguous)" if "/" in text else ""
        errors.append(
            f"line {line}: {field}: {value!r} is not a date (YYYY-MM-DD or "
            f"DD-MM-YYYY){hint}"
        )
        return None


def decode_people_file(data: bytes) -> str:
    """The file's text: UTF-8 (with or without the BOM Excel's "CSV UTF-8"
    writes), else Windows-1252 (Excel's plain "CSV" on a Western-European
    Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _reader(text: str, source: str) -> csv.DictReader[str]:
    """A reader over the rows with the header mapped to :data:`COLUMNS`; the
    delimiter (comma, or semicolon as Excel writes it where the decimal
    separator is a comma, or tab) is read off the header line."""
    text = text.lstrip("\ufeff")
    head = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=head.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    lookup = {a: col for col, names in HEADER_ALIASES.items() for a in names}
    names = [
        lookup.get(re.sub(r"[\s.\-]+", "_", (h or "").strip().lower()), h or "")
        for h in reader.fieldnames or []
    ]
    twice = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    missing = [c for c in COLUMNS if c not in names]
    if missing or twice:
        accepted = "; ".join(f"{c}: {'|'.join(a)}" for c, a in HEADER_ALIASES.items())
        problem = (
            f"missing column(s) {', '.join(missing)}"
            if missing
            else f"column(s) {', '.join(twice)} given twice"
        )
        raise PeopleImportError(
            source,
            [
                f"line 1: {problem} (header read as {reader.fieldnames!r}, "
                f"separated by {delimiter!r}); accepted names: {accepted}"
            ],
        )
    reader.fieldnames = names
    return reader


def _row(
    row: dict[str, str | None], line: int, known: dict[str, str], errors: list[str]
) -> Membership | None:
    badge = (row.get("badge_id") or "").strip()
    dept = (row.get("department") or "").strip()
    n = len(errors)
    if not badge or not normalise_badge_id(badge):
        errors.append(f"line {line}: badge_id: empty")
    if dept.lower() not in known:
        close = difflib.get_close_matches(dept.lower(), known, n=1)
        hint = f"; did you mean {known[close[0]]!r}?" if close else ""
        errors.append(
            f"line {line}: department: unknown department {dept!r}"
            f" (load it with `occupancy building load` first{hint})"
        )
    start = _date(row.get("valid_from") or "", line, "valid_from", errors)
    raw_to = (row.get("valid_to") or "").strip()
    end = _date(raw_to, line, "valid_to", errors) if raw_to else None
    if start and end and end < start:
        errors.append(f"line {line}: valid_to: {end} is before valid_from {start}")
    if len(errors) > n or start is None:
        return None
    return Membership(badge, known[dept.lower()], start, end, line)


def parse_people_csv(
    text: str, known_departments: Iterable[str], source: str = "people.csv"
) -> list[Membership]:
    """Every row checked; any problem refuses the whole file (PeopleImportError
    naming line and field): unknown departments, bad dates, a badge in two
    departments at once (overlapping periods)."""
    reader = _reader(text, source)
    known = {d.lower(): d for d in known_departments}
    errors: list[str] = []
    rows = []
    for raw in reader:
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # an empty line, or Excel's ";;;"
        m = _row(raw, reader.line_num, known, errors)
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
