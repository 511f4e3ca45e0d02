"""``occupancy plan ...`` and ``occupancy export <plan report>`` on a real
database whose hourly level rollups are written here (a known weekly
profile), so the numbers can be checked by hand."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from plan_rows import CHANGE, FIRST, LAST, insert_coloc, insert_levels

from analytics.forecast import MODELS
from app.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def url(database_url: str) -> str:
    insert_levels(database_url)
    return database_url


@pytest.fixture(scope="module")
def coloc_url(url: str) -> str:
    insert_coloc(url)
    return url


def _run(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--database-url", url, *args])


def test_plan_forecast_prints_and_exports(url: str, tmp_path: Any) -> None:
    res = _run(
        url,
        "plan",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--horizon",
        "2",
        "--level",
        "building",
    )
    assert res.exit_code == 0, res.output
    assert "people_hi95" in res.output
    out = tmp_path / "fc.csv"
    res = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "horizon=2",
        "--plan",
        "levels=building,floor",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(out)
    assert set(fc["level"]) == {"building", "floor"}
    # 2 weeks × 5 days × 10 hours per group
    assert (fc.groupby("level_id").size() == 100).all()
    b = fc[(fc["level"] == "building") & ~fc["closed"]]
    # Wednesday midday: 60 × 1.2 = 72 people expected; forecast near it
    wed = b[(pd.to_datetime(b["day"]).dt.weekday == 2) & (b["hour"] == 12)]
    assert np.allclose(wed["people"], 72.0, atol=3.0)
    assert (b["people_lo95"] <= b["people_lo80"]).all()
    assert (b["people_lo80"] <= b["people"]).all()
    assert (b["people_hi80"] <= b["people_hi95"]).all()
    np.testing.assert_allclose(b["utilization_pct"], 100 * b["people"] / 300)


def test_plan_forecast_scores_and_bad_horizon(url: str) -> None:
    res = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "show=scores",
        "--plan",
        "levels=floor",
    )
    assert res.exit_code == 0, res.output
    sc = pd.read_csv(io.StringIO(res.output))
    assert set(sc["model"]) == set(MODELS)
    assert sc["chosen"].sum() == 1
    bad = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "horizon=9",
    )
    assert bad.exit_code != 0 and "horizon 9" in bad.output
    bad = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "horizon",
    )
    assert bad.exit_code != 0 and "KEY=VALUE" in bad.output


def test_plan_forecast_planned_change_through_cli_and_export(
    url: str, tmp_path: Any
) -> None:
    base = ["--from", str(FIRST), "--to", str(LAST)]
    change = LAST + dt.timedelta(days=8)  # inside the second forecast week
    out = {}
    for name, extra in (
        ("plain", []),
        ("export", ["--plan", f"planned-change={change}:1.2"]),
    ):
        path = tmp_path / f"{name}.csv"
        args = ["export", "forecast", *base, "--plan", "horizon=2"]
        args += ["--plan", "levels=building", *extra, "-o", str(path)]
        res = _run(url, *args)
        assert res.exit_code == 0, res.output
        out[name] = pd.read_csv(path)
    plain, planned = out["plain"], out["export"]
    after = pd.to_datetime(planned["day"]).dt.date >= change
    assert after.any() and (~after).any()
    np.testing.assert_allclose(
        planned.loc[after, "people"], 1.2 * plain.loc[after, "people"], rtol=1e-9
    )
    np.testing.assert_allclose(
        planned.loc[~after, "people"], plain.loc[~after, "people"]
    )
    assert (planned.loc[after & ~planned["closed"], "planned_factor"] == 1.2).all()
    res = _run(url, "plan", "forecast", *base, "--planned-change", f"{change}:1.2")
    assert res.exit_code == 0 and "planned_factor" in res.output
    # The setting: the same change; a --plan one of the same date replaces it.
    env = {"OCCUPANCY_FORECAST_PLANNED_CHANGES": f"{change}:1.5"}
    args = ["export", "forecast", *base, "--plan", "horizon=2"]
    args += ["--plan", "levels=building"]
    for extra, factor in (([], 1.5), (["--plan", f"planned-change={change}:1.2"], 1.2)):
        res = CliRunner().invoke(main, ["--database-url", url, *args, *extra], env=env)
        assert res.exit_code == 0, res.output
        got = pd.read_csv(io.StringIO(res.output))
        np.testing.assert_allclose(
            got.loc[after, "people"], factor * plain.loc[after, "people"], rtol=1e-9
        )
    env = {"OCCUPANCY_FORECAST_PLANNED_CHANGES": "2026-09-07"}
    bad = CliRunner().invoke(main, ["--database-url", url, *args], env=env)
    assert bad.exit_code != 0
    assert "forecast_planned_changes" in bad.output and "'2026-09-07'" in bad.output
    bad = _run(
        url, "export", "forecast", *base, "--plan", "planned-change=2026-09-07:x"
    )
    assert bad.exit_code != 0 and "'2026-09-07:x'" in bad.output


def test_plan_whatif(url: str) -> None:
    res = _run(
        url,
        "plan",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--close",
        "f2:fri",
        "--sharing",
        "0.5",
    )
    assert res.exit_code == 0, res.output
    assert "baseline" in res.output and "close f2:fri" in res.output
    res = _run(
        url,
        "export",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "close=f2:fri",
        "--plan",
        "move=finance:f2",
    )
    assert res.exit_code == 0, res.output
    w = pd.read_csv(io.StringIO(res.output)).set_index("scenario")
    assert list(w.index) == ["baseline", "close f2:fri", "move finance:f2"]
    # peak_people = people + 1 summed over the 8 departments (each 8 × 1.2 at
    # midday midweek plus noise): the building's desks hold it
    assert bool(w.loc["baseline", "fits_p90"])
    bad = _run(
        url,
        "plan",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--close",
        "f9:fri",
    )
    assert bad.exit_code != 0 and "f9" in bad.output
    bad = _run(
        url,
        "plan",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--anchor",
        "sales:someday",
    )
    assert bad.exit_code != 0 and "someday" in bad.output
    ds = _run(
        url, "plan", "whatif", "--from", str(FIRST), "--to", str(LAST), "--desk-sharing"
    )
    assert ds.exit_code == 0, ds.output


def test_plan_stack(url: str) -> None:
    res = _run(
        url,
        "export",
        "stack",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "pair=finance:it",
        "--plan",
        "time-limit=5",
    )
    assert res.exit_code == 0, res.output
    st = pd.read_csv(io.StringIO(res.output)).set_index("department_id")
    assert len(st) == 8 and st["solver_status"].iloc[0] == "OPTIMAL"
    # finance (f1) and it (f2) end on one floor; every department fits
    assert st.loc["finance", "floor_id"] == st.loc["it", "floor_id"]
    assert (st["demand"] <= st["desks"]).all()
    res = _run(
        url,
        "plan",
        "stack",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--pair",
        "finance:it",
        "--pairs",
    )
    assert res.exit_code == 0 and "same_floor_today" in res.output
    bad = _run(
        url,
        "plan",
        "stack",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--pair",
        "finance:nobody",
    )
    assert bad.exit_code != 0 and "nobody" in bad.output


def test_plan_intervention_recovers_the_step(coloc_url: str) -> None:
    res = _run(
        coloc_url,
        "export",
        "intervention",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        f"change={CHANGE}",
        "--plan",
        "zones=f1-project",
    )
    assert res.exit_code == 0, res.output
    r = pd.read_csv(io.StringIO(res.output)).set_index("outcome")
    # cross pairs per occupied bucket: 2/20 -> 6/20 in f1-project, 2/20 elsewhere
    assert r.loc["cross_pairs", "before"] == pytest.approx(0.1)
    assert r.loc["cross_pairs", "after"] == pytest.approx(0.3)
    assert r.loc["cross_pairs", "did"] == pytest.approx(0.2)
    assert r.loc["cross_pairs", "did_lo95"] == pytest.approx(0.2)
    assert r.loc["cross_pairs", "control"] == "f0-cafe,f2-lounge"
    assert r.loc["simpson", "did"] == pytest.approx(0.0)
    res = _run(
        coloc_url,
        "plan",
        "intervention",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--change",
        str(CHANGE),
        "--zone",
        "f9-nowhere",
    )
    assert res.exit_code != 0 and "f9-nowhere" in res.output
    res = _run(
        coloc_url,
        "plan",
        "intervention",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--change",
        str(LAST + dt.timedelta(days=3)),
        "--zone",
        "f1-project",
    )
    assert res.exit_code != 0 and "change date" in res.output


def test_plan_scorecard_ranks_the_project_space(coloc_url: str) -> None:
    res = _run(
        coloc_url, "export", "scorecard", "--from", str(CHANGE), "--to", str(LAST)
    )
    assert res.exit_code == 0, res.output
    c = pd.read_csv(io.StringIO(res.output)).set_index("zone_id")
    # after the change: together 6 of 20 buckets, each present 10 -> lift 6 ÷ 5
    assert c.loc["f1-project", "rank"] == 1
    assert c.loc["f1-project", "lift"] == pytest.approx(1.2)
    assert c.loc["f0-cafe", "lift"] == pytest.approx(0.4)
    # finance-it is 1 of the 28 pairs of the 8 departments
    assert c.loc["f1-project", "pairs_met_pct"] == pytest.approx(100 / 28)
    res = _run(
        coloc_url,
        "plan",
        "scorecard",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--weekly",
    )
    assert res.exit_code == 0 and "cross_pairs" in res.output
