"""Departments from HR: `occupancy people import` (membership with history,
badge ids pseudonymised as at ingest, errors naming line and field), and a
reorganisation mid-period in co-location, worked out by hand."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest

from analytics.colocation import colocation_matrix, department_presence
from analytics.db_io import read_badge_departments
from occupancy.db import connect
from occupancy.people import PeopleImportError, decode_people_file, parse_people_csv
from occupancy.pseudonym import pseudonymise

KEY = "test-pseudonym-key-0123456789abcdef"
KNOWN = ["finance", "hr", "it", "operations"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "badge_id,department,valid_from,valid_to\nb1,astrology,2026-01-01,\n",
            "line 2: department: unknown department 'astrology'",
        ),
        (
            "badge_id,department,valid_from,valid_to\nb1,hr,2026-13-01,\n",
            "line 2: valid_from: '2026-13-01' is not a date (YYYY-MM-DD or DD-MM-YYYY)",
        ),
        (
            "badge_id,department,valid_from,valid_to\nb1,hr,2026-02-01,2026-01-31\n",
            "line 2: valid_to: 2026-01-31 is before valid_from 2026-02-01",
        ),
        (
            "badge_id,department,valid_from,valid_to\n,hr,2026-02-01,\n",
            "line 2: badge_id: empty",
        ),
        (
            "badge_id,department,valid_from,valid_to\n"
            "AA:BB,hr,2026-01-01,2026-03-31\naabb,it,2026-03-31,\n",
            "line 3: valid_from: 2026-03-31 overlaps line 2 (hr from 2026-01-01 to "
            "2026-03-31) for the same badge",
        ),
        (
            "badge_id,department,valid_from,valid_to\n"
            "b1,hr,2026-01-01,\nb1,it,2026-05-01,\n",
            "line 3: valid_from: 2026-05-01 overlaps line 2 (hr from 2026-01-01 to open)",
        ),
        (
            "badge,department,valid_from\nb1,hr,2026-01-01\n",
            "line 1: missing column(s) valid_to (header read as ['badge', "
            "'department', 'valid_from'], separated by ',')",
        ),
    ],
)
def test_errors_name_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(PeopleImportError) as err:
        parse_people_csv(text, KNOWN, "hr.csv")
    assert expected in str(err.value)
    assert str(err.value).startswith("hr.csv: ")


def test_an_hr_export_from_dutch_excel() -> None:
    """Excel on a Dutch Windows: semicolons, Dutch headers, dd-mm-yyyy,
    Windows-1252 (é in a column we ignore), blank trailing rows ";;;;"; the
    department as HR spells it (case differs from the building file's id)."""
    data = (
        "Pasnummer;Afdeling;Geldig van;Geldig tot;Naam\r\n"
        "45:E1:74:12:6E:00;Finance;01-01-2025;28-02-2026;André\r\n"
        "45:E1:74:12:6E:00;operations;1-3-2026;;André\r\n"
        ";;;;\r\n"
    ).encode("cp1252")
    text = decode_people_file(data)
    rows = parse_people_csv(text, KNOWN, "hr.csv")
    assert [(m.department, m.valid_from, m.valid_to, m.line) for m in rows] == [
        ("finance", dt.date(2025, 1, 1), dt.date(2026, 2, 28), 2),
        ("operations", dt.date(2026, 3, 1), None, 3),
    ]
    # "CSV UTF-8" from Excel: a BOM, read the same.
    bom = decode_people_file(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert parse_people_csv(bom, KNOWN) == rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "badge_id;department;valid_from;valid_to\nb1;hr;03/04/2026;\n",
            "line 2: valid_from: '03/04/2026' is not a date (YYYY-MM-DD or "
            "DD-MM-YYYY) (slashes are ambiguous)",
        ),
        (
            "badge_id;department;valid_from;valid_to\nb1;hr;20260403;\n",
            "line 2: valid_from: '20260403' is not a date",
        ),
        (
            "badge_id;afdeling;department;valid_from;valid_to\n",
            "line 1: column(s) department given twice",
        ),
        (
            "badge_id;department;valid_from;valid_to\nb1;Finace;2026-01-01;\n",
            "line 2: department: unknown department 'Finace' (load it with "
            "`occupancy building load` first; did you mean 'finance'?)",
        ),
    ],
)
def test_hr_export_errors(text: str, expected: str) -> None:
    with pytest.raises(PeopleImportError) as err:
        parse_people_csv(text, KNOWN, "hr.csv")
    assert expected in str(err.value)


def test_all_problems_are_listed_at_once() -> None:
    text = (
        "badge_id,department,valid_from,valid_to\n"
        "b1,nope,2026-01-01,\nb2,hr,someday,\nb3,hr,2026-01-01,\n"
    )
    with pytest.raises(PeopleImportError) as err:
        parse_people_csv(text, KNOWN)
    assert [e.split(":")[0] for e in err.value.errors] == ["line 2", "line 3"]


def _run(
    database_url: str, *args: str, key: str | None = KEY
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if key:
        env["OCCUPANCY_PSEUDONYM_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "occupancy", "--database-url", database_url, *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


# Five people of Finance's payables team move to Operations on 2 March 2026;
# five people of HR stay. Amsterdam dates: Finance until 1 March included,
# i.e. until 2026-03-01 23:00 UTC.
P = [f"45:E1:74:12:6E:0{i}" for i in range(5)]
Q = [f"45:E1:74:12:7F:0{i}" for i in range(5)]
HR_FILE = (
    "badge_id,department,valid_from,valid_to\n"
    + "".join(
        f"{b},finance,2025-01-01,2026-03-01\n{b},operations,2026-03-02,\n" for b in P
    )
    + "".join(f"{b},hr,2025-01-01,\n" for b in Q)
)


def test_people_import_and_a_reorganisation_in_colocation(
    tmp_path: Any, database_url: str
) -> None:
    f = tmp_path / "people.csv"
    f.write_text(HR_FILE)
    no_key = _run(database_url, "people", "import", str(f), key=None)
    assert no_key.returncode == 1 and "OCCUPANCY_PSEUDONYM_KEY" in no_key.stderr
    run = _run(database_url, "people", "import", str(f))
    assert run.returncode == 0, run.stderr
    assert "imported 15 memberships of 10 badges" in run.stdout
    again = _run(database_url, "people", "import", str(f))  # idempotent
    assert "imported 15 memberships of 10 badges" in again.stdout
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT badge) FROM badge_memberships")
            assert cur.fetchone() == (15, 10)
            # Pseudonymised as the ingester does; the raw id is nowhere.
            cur.execute(
                "SELECT department_id, valid_from::text, valid_to::text FROM "
                "badge_memberships WHERE badge = %s ORDER BY valid_from",
                (pseudonymise(KEY, "45e174126e00"),),
            )
            assert cur.fetchall() == [
                ("finance", "2025-01-01", "2026-03-01"),
                ("operations", "2026-03-02", None),
            ]
            cur.execute(
                "SELECT count(*) FROM badge_memberships WHERE badge ILIKE '%%45:E1%%'"
            )
            assert cur.fetchone() == (0,)
            # The current register points at today's department.
            cur.execute(
                "SELECT department_id, count(*) FROM badge_departments "
                "WHERE badge = ANY(%s) GROUP BY 1 ORDER BY 1",
                ([pseudonymise(KEY, b) for b in P + Q],),
            )
            assert cur.fetchall() == [("hr", 5), ("operations", 5)]
        memberships = read_badge_departments(conn)
    finally:
        conn.close()

    # All ten sit in the café at 10:00 UTC on 1 March and again on 2 March:
    # one 15-minute bucket each day.
    sightings = pd.DataFrame(
        [
            (pd.Timestamp(day, tz="UTC"), "f0-cafe", pseudonymise(KEY, b))
            for day in ("2026-03-01 10:00", "2026-03-02 10:00")
            for b in P + Q
        ],
        columns=["ts", "zone_id", "badge"],
    )
    zones = pd.DataFrame({"zone_id": ["f0-cafe"], "kind": ["shared"]})

    def cell(matrix: pd.DataFrame, a: str, b: str) -> Any:
        m = matrix[
            (matrix["source"] == "all")
            & (matrix["department_a"] == a)
            & (matrix["department_b"] == b)
        ]
        return m["minutes"].iloc[0] if len(m) else None

    dp = department_presence(sightings, memberships, zones, 900)
    m = colocation_matrix(dp, bucket_minutes=15, k=5)
    # By hand: 1 March: Finance (5) with HR (5), 15 minutes; 2 March: the same
    # people as Operations with HR, 15 minutes.
    assert cell(m, "finance", "hr") == 15.0
    assert cell(m, "hr", "operations") == 15.0
    # Without history (today's register only) last year's... here 1 March's
    # meeting would be rewritten as Operations: 30 minutes, Finance gone.
    today_only = memberships[memberships["valid_to"].isna()][["badge", "department_id"]]
    m_old = colocation_matrix(
        department_presence(sightings, today_only, zones, 900), bucket_minutes=15, k=5
    )
    assert cell(m_old, "hr", "operations") == 30.0
    assert cell(m_old, "finance", "hr") is None
