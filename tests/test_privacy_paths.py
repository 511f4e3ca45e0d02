"""The k threshold holds on every output path: the report API, the CSV and
Parquet exports (the dashboard's Export page writes the same bytes, tested in
tests/dashboard) and the dashboard's collaboration figures.

Seeded: in the café, 6 IT, 5 Finance (exactly k = 5) and 4 Legal (k - 1)
badges are seen together on Tue 3 March 2026, 10:00-12:00 local."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from psycopg2.extras import execute_values

from occupancy.building import load_building
from occupancy.db import connect, migrate
from occupancy.metadata import load_site
from occupancy.settings import load_settings

from conftest import EXAMPLE_BUILDING, PgHandle

pytestmark = pytest.mark.integration

DAY = dt.date(2026, 3, 3)
TEAMS = {"it": 6, "finance": 5, "legal": 4}


@pytest.fixture(scope="module")
def seeded(pg_server: PgHandle) -> str:
    from analytics.pipeline import run_analyze

    url = pg_server.create_database("t_privacy_paths")
    conn = connect(url)
    try:
        migrate(conn)
        load_site(conn, load_building(EXAMPLE_BUILDING))
        badges = [(f"b-{d}-{i}", d) for d, n in TEAMS.items() for i in range(n)]
        t0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)  # 10:00 local
        rows = [
            (t0 + dt.timedelta(minutes=5 * i), "ble-f0-cafe", "f0-cafe", b, -60.0, i)
            for i in range(25)
            for b, _ in badges
        ]
        with conn, conn.cursor() as cur:
            execute_values(
                cur,
                "INSERT INTO badge_departments (badge, department_id) VALUES %s",
                badges,
            )
            execute_values(
                cur,
                "INSERT INTO badge_sightings (ts, device_id, zone_id, badge, rssi, seq) VALUES %s",
                rows,
                page_size=5000,
            )
        run_analyze(
            conn,
            load_settings({"database_url": url}, environ={}),
            full=True,
            progress=lambda m: None,
        )
    finally:
        conn.close()
    return url


def _check_matrix(frame: pd.DataFrame) -> None:
    frame = frame[frame["source"] == "all"]
    pair = lambda a, b: frame[(frame.department_a == a) & (frame.department_b == b)]  # noqa: E731
    ok = pair("finance", "it") if len(pair("finance", "it")) else pair("it", "finance")
    assert len(ok) == 1 and not bool(ok["suppressed"].iloc[0])
    assert float(ok["minutes"].iloc[0]) > 0
    legal = frame[(frame.department_a == "legal") | (frame.department_b == "legal")]
    assert len(legal) > 0
    assert legal["suppressed"].astype(str).str.lower().isin(["true", "1"]).all()
    for col in ("minutes", "lift", "people_a", "people_b", "expected_minutes"):
        assert legal[col].isna().all(), f"{col} shown for a group under k"


def test_report_api(seeded: str) -> None:
    from analytics.reports import build_report

    conn = connect(seeded)
    try:
        frame = build_report(
            conn,
            "colocation",
            DAY,
            DAY,
            settings=load_settings({"database_url": seeded}, environ={}),
        )
    finally:
        conn.close()
    _check_matrix(frame)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_exports(seeded: str, fmt: str, tmp_path: Any) -> None:
    out = tmp_path / f"colo.{fmt}"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "--database-url",
            seeded,
            "export",
            "colocation",
            "--from",
            str(DAY),
            "--to",
            str(DAY),
            "--format",
            fmt,
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    _check_matrix(frame)


def test_dashboard_collaboration_figures(seeded: str) -> None:
    from dashboard.app import create_app, page_module

    app = create_app(load_settings({"database_url": seeded}, environ={}))
    with app.server.test_request_context("/collaboration"):
        matrix, network, _mix, _note = page_module(
            "collaboration"
        ).update_collaboration(f"?site=hq&from={DAY}&to={DAY}&wh=1")
    heat = matrix.data[1]
    names = list(heat.y)
    z = np.asarray(heat.z, dtype=float)
    text = np.asarray(heat.text)
    legal, finance, it = names.index("Legal"), names.index("Finance"), names.index("IT")
    assert np.isfinite(z[finance, it]) and np.isfinite(z[it, finance])
    assert np.isnan(z[legal]).all() and np.isnan(z[:, legal]).all()
    assert set(text[legal]) <= {"×", ""} and "×" in set(text[legal])
    assert np.isnan(np.asarray(heat.customdata, dtype=float)[legal]).all()
    # Nor does the network view draw an edge to Legal: edges are the traces
    # with two points; none may end at Legal's node.
    nodes = [
        tr for tr in network.data if tr.text is not None and "Legal" in list(tr.text)
    ]
    assert len(nodes) == 1
    node = nodes[0]
    lx, ly = (
        node.x[list(node.text).index("Legal")],
        node.y[list(node.text).index("Legal")],
    )
    for tr in network.data:
        if tr is node or tr.x is None:
            continue
        pts = {
            (round(float(x), 6), round(float(y), 6))
            for x, y in zip(tr.x, tr.y, strict=False)
            if x is not None and y is not None
        }
        assert (round(float(lx), 6), round(float(ly), 6)) not in pts
