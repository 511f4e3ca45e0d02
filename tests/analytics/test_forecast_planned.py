"""Planned changes (analytics/forecast_changes.py): a factor announced in
advance multiplies the forecast from its date on, not before, and only when
the date lies after the history; bad specs are refused with their text.
Values worked out by hand on a constant series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from click.testing import CliRunner

from analytics.forecast import ForecastParams, PlannedChange, forecast_all, hour_grid
from analytics.forecast_changes import (
    FACTOR_SD_SHARE,
    PlannedChangeError,
    apply_planned,
    parse_planned_change,
    parse_planned_changes,
)
from analytics.forecast_model import Z80
from analytics.plan_reports import PlanOptionError, planned_changes
from app.cli import main

MON = dt.date(2026, 3, 2)  # a Monday
HIST_WEEKS, AHEAD = 8, 2


def _forecast(*planned: PlannedChange) -> tuple[dt.date, object]:
    """Every model forecasts 10 people (a constant history without noise)."""
    grid = hour_grid(
        MON,
        MON + dt.timedelta(days=7 * (HIST_WEEKS + AHEAD) - 1),
        work_hours=(9, 11),
        weekdays=[0, 2],
    )
    last = MON + dt.timedelta(days=7 * HIST_WEEKS - 1)
    hist = grid[grid["day"] <= last].reset_index(drop=True)
    series = hist[["day", "hour"]].assign(
        level="building", level_id="b", people=10.0, capacity=50.0
    )
    fc, _ = forecast_all(
        series,
        hist,
        grid[grid["day"] > last].reset_index(drop=True),
        ForecastParams(horizon_weeks=AHEAD, origins=3),
        k=5,
        timezone="Europe/Amsterdam",
        planned=planned,
    )
    return last, fc


def test_planned_factor_multiplies_the_forecast_on_and_after_its_date_only() -> None:
    last, fc = _forecast()
    np.testing.assert_allclose(fc["people"], 10.0, atol=1e-6)
    assert (fc["planned_factor"] == 1.0).all()
    # The Wednesday of the second forecast week: before it 10, from it on 12.
    change = last + dt.timedelta(days=10)
    assert change.weekday() == 2
    _, fc = _forecast(PlannedChange(change, 1.2))
    before, after = fc[fc["day"] < change], fc[fc["day"] >= change]
    assert len(before) == 6 and len(after) == 2  # Mon, Wed, Mon (×2 h) | Wed
    np.testing.assert_allclose(before["people"], 10.0, atol=1e-6)
    np.testing.assert_allclose(after["people"], 12.0, atol=1e-6)
    np.testing.assert_allclose(after["utilization_pct"], 100 * 12.0 / 50.0)
    assert after["planned_factor"].tolist() == [1.2, 1.2]
    # No noise: the intervals are the change's uncertainty only,
    # sd = 10 × 0.5 × 0.2 = 1 person, × the normal 80 % quantile.
    assert FACTOR_SD_SHARE == 0.5
    np.testing.assert_allclose(before["people_hi80"], 10.0, atol=1e-6)
    np.testing.assert_allclose(after["people_hi80"], 12.0 + Z80 * 1.0, atol=1e-6)
    np.testing.assert_allclose(after["people_lo80"], 12.0 - Z80 * 1.0, atol=1e-6)


def test_a_change_inside_the_history_is_left_to_the_data() -> None:
    last, fc = _forecast(PlannedChange(last_day := MON + dt.timedelta(days=7), 1.5))
    assert last_day <= last
    np.testing.assert_allclose(fc["people"], 10.0, atol=1e-6)
    assert (fc["planned_factor"] == 1.0).all()


def test_two_changes_multiply() -> None:
    days = np.array(["2026-09-04", "2026-09-07", "2026-10-05"], dtype="datetime64[D]")
    mean, sd = np.full((3, 1), 100.0), np.zeros((3, 1))
    changes = parse_planned_changes(["2026-10-05:0.9", "2026-09-07:1.2"])
    m, s, f = apply_planned(mean, sd, days, dt.date(2026, 9, 4), changes)
    np.testing.assert_allclose(f[:, 0], [1.0, 1.2, 1.08])
    np.testing.assert_allclose(m[:, 0], [100.0, 120.0, 108.0])
    # sd of 1.2 × 0.9: 1.08 × √((0.1/1.2)² + (0.05/0.9)²)
    rel = np.sqrt((0.1 / 1.2) ** 2 + (0.05 / 0.9) ** 2)
    np.testing.assert_allclose(s[:, 0], [0.0, 10.0, 100 * 1.08 * rel])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-09-07", "expected DATE:FACTOR"),
        ("2026-09-07:1.2:3", "expected DATE:FACTOR"),
        ("2026-13-07:1.2", "date '2026-13-07' is not a date"),
        ("2026-09-07:lots", "factor 'lots' is not a number"),
        ("2026-09-07:0", "must be > 0"),
        ("2026-09-07:-1.2", "must be > 0"),
        ("2026-09-07:nan", "must be > 0"),
    ],
)
def test_bad_planned_change_is_refused_with_its_text(text: str, says: str) -> None:
    with pytest.raises(PlannedChangeError) as err:
        parse_planned_change(text)
    assert repr(text) in str(err.value)
    assert says in str(err.value)


def test_the_same_date_twice_is_refused() -> None:
    with pytest.raises(PlannedChangeError, match="2026-09-07 given twice"):
        parse_planned_changes(["2026-09-07:1.2", "2026-09-07:1.1"])
    assert parse_planned_change(" 2026-09-07 : 1.2 ") == PlannedChange(
        dt.date(2026, 9, 7), 1.2
    )


def test_cli_refuses_a_bad_planned_change_before_opening_the_database() -> None:
    res = CliRunner().invoke(
        main,
        [
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none",
            "plan",
            "forecast",
            "--from",
            "2026-01-05",
            "--to",
            "2026-08-09",
            "--planned-change",
            "2026-09-07:1,2",
        ],
    )
    assert res.exit_code == 2, res.output
    assert "--planned-change" in res.output
    assert "'2026-09-07:1,2'" in res.output
    assert "factor '1,2' is not a number" in res.output


def test_export_option_error_names_the_bad_text() -> None:
    with pytest.raises(PlanOptionError, match="'2026-09-31:1.2'.*is not a date"):
        planned_changes(["2026-09-07:1.2", "2026-09-31:1.2"])
    assert planned_changes([]) == ()
