"""The building file's planned changes on a real database: stored by
``load_site`` (migration 0014), read back, and used by ``occupancy export
forecast`` by default; a change given per run of the same date replaces the
file's (factor 1: none). The hourly level rows are those of plan_rows."""

from __future__ import annotations

import copy
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from plan_rows import FIRST, LAST, insert_levels

from analytics.plan_io import read_planned_changes
from app.cli import main
from occupancy.building import parse_building
from occupancy.db import connect
from occupancy.metadata import load_site
from occupancy.planned_changes import PlannedChange

from conftest import EXAMPLE_BUILDING

pytestmark = pytest.mark.integration

CHANGE = LAST + dt.timedelta(days=8)  # inside the second forecast week


@pytest.fixture(scope="module")
def url(database_url: str) -> str:
    insert_levels(database_url)
    doc = yaml.safe_load(EXAMPLE_BUILDING.read_text())
    doc = copy.deepcopy(doc)
    doc["site"]["planned_changes"] = [
        {"date": CHANGE, "factor": 1.5, "departments": ["finance"], "note": "3 days"}
    ]
    conn = connect(database_url)
    try:
        load_site(conn, parse_building(doc))
    finally:
        conn.close()
    return database_url


def _export(url: str, *extra: str) -> pd.DataFrame:
    args = ["export", "forecast", "--from", str(FIRST), "--to", str(LAST)]
    args += ["--plan", "horizon=2", "--plan", "levels=building,department"]
    res = CliRunner().invoke(main, ["--database-url", url, *args, *extra])
    assert res.exit_code == 0, res.output
    return pd.read_csv(io.StringIO(res.output))


def test_the_files_changes_are_stored_and_used_by_default(url: str) -> None:
    conn = connect(url)
    try:
        stored = read_planned_changes(conn, "hq")
    finally:
        conn.close()
    assert stored == (PlannedChange(CHANGE, 1.5, (), ("finance",), "3 days"),)
    got = _export(url)
    plain = _export(url, "--plan", f"planned-change={CHANGE}:1")
    assert (plain["planned_factor"] == 1.0).all()
    after = (pd.to_datetime(got["day"]).dt.date >= CHANGE) & ~got["closed"]
    fin = got["level_id"] == "finance"
    np.testing.assert_allclose(
        got.loc[after & fin, "people"], 1.5 * plain.loc[after & fin, "people"]
    )
    assert (got.loc[after & fin, "planned_factor"] == 1.5).all()
    other = (got["level"] == "department") & ~fin
    np.testing.assert_allclose(got.loc[other, "people"], plain.loc[other, "people"])
    # The building holds finance's neighbourhood among its zones: it rises,
    # by less than the whole factor (no zone rows here: the zones' count share).
    b = after & (got["level"] == "building")
    assert b.any()
    f = got.loc[b, "planned_factor"]
    assert ((f > 1.0) & (f < 1.5)).all()
    np.testing.assert_allclose(
        got.loc[b, "people"], f * plain.loc[b, "people"], rtol=1e-9
    )
    assert (got.loc[~after, "planned_factor"] == 1.0).all()


def test_a_run_naming_an_unknown_department_is_refused(url: str) -> None:
    args = ["export", "forecast", "--from", str(FIRST), "--to", str(LAST)]
    args += ["--plan", f"planned-change={CHANGE}:1.2:departments=ghosts"]
    res = CliRunner().invoke(main, ["--database-url", url, *args])
    assert res.exit_code != 0
    assert "'ghosts' is not a department" in res.output
