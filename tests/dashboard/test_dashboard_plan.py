"""The Plan page in headless Chromium against the app on a free port, over a
database with hand-built plan rollups (tests/plan_rows.py): every section
drawn on first load (with the planned change of the setting marked on the
forecast and listed), a what-if control recomputes, Dutch labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from plan_rows import CHANGE, FIRST, LAST, insert_coloc, insert_levels

pytestmark = [pytest.mark.browser, pytest.mark.integration]

QUERY = f"?site=hq&from={FIRST}&to={LAST}&wh=1"
PLANNED = LAST + dt.timedelta(days=8)  # the second forecast week's Monday


@pytest.fixture(scope="module")
def plan_db(database_url: str) -> str:
    insert_levels(database_url)
    insert_coloc(database_url)
    return database_url


@pytest.fixture(scope="module")
def served(plan_db: str, serve_app: Any) -> Iterator[Any]:
    from occupancy.settings import load_settings

    s = serve_app(
        load_settings(
            {"database_url": plan_db, "forecast_planned_changes": f"{PLANNED}:1.2"}
        )
    )
    yield s
    s.stop()


def _idle(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
        timeout=60_000,
    )


def test_plan_page_draws_every_section(new_page: Any, served: Any) -> None:
    page, log = new_page()
    response = page.goto(served.url + "/plan" + QUERY, timeout=120_000)
    assert response is not None and response.status == 200
    _idle(page)
    assert page.locator(".app-error").inner_text() == ""
    assert page.locator(".app-main h2").first.inner_text().strip() == "Plan"
    # forecast drawn: measured, forecast and the two interval bands
    names = page.evaluate(
        "() => document.querySelector('#plan-fc-figure .js-plotly-plot')"
        ".data.map(d => d.name)"
    )
    assert {"forecast", "measured", "80 % interval", "95 % interval"} <= set(names)
    assert "dls" in page.locator("#plan-fc-scores").inner_text()
    # the scores table has its own heading, right above it
    above = page.locator("#plan-fc-scores").locator("xpath=preceding-sibling::*[1]")
    assert above.inner_text().strip() == "Model scores (rolling-origin backtest)"
    # the planned change: listed, and a dashed line with its factor
    planned = page.locator("#plan-fc-planned").inner_text()
    assert str(PLANNED) in planned and "× 1.2" in planned and "whole site" in planned
    marks = page.evaluate(
        "() => document.querySelector('#plan-fc-figure .js-plotly-plot')"
        ".layout.annotations.map(a => a.text)"
    )
    assert marks == ["planned × 1.2"]
    wi = page.locator("#plan-wi-table").inner_text()
    assert "baseline" in wi and "close f2:fri" in wi and "sharing 0.7" in wi
    assert "OPTIMAL" in page.locator("#plan-st-table").inner_text()
    assert "f1-project" in page.locator("#plan-sc-table").inner_text()
    assert log.errors == [], log.errors


def test_whatif_control_recomputes(new_page: Any, served: Any) -> None:
    page, log = new_page()
    page.goto(served.url + "/plan" + QUERY, timeout=120_000)
    _idle(page)
    page.locator("#plan-wi-close-days label").filter(has_text="mon").click()
    page.wait_for_function(
        "() => document.querySelector('#plan-wi-table').innerText"
        ".includes('close f2:mon,fri')",
        timeout=60_000,
    )
    assert log.errors == [], log.errors


def test_intervention_section_measures_the_step(new_page: Any, served: Any) -> None:
    page, log = new_page()
    page.goto(served.url + "/plan" + QUERY, timeout=120_000)
    _idle(page)
    # the default change date is mid-period; the hand-built step is at CHANGE
    text = page.locator("#plan-iv-table").inner_text()
    assert "cross_pairs" in text and "simpson" in text
    assert page.locator("#plan-iv-figure .js-plotly-plot").count() == 1
    assert CHANGE > FIRST
    assert log.errors == [], log.errors


def test_plan_page_in_dutch(new_page: Any, plan_db: str, serve_app: Any) -> None:
    from occupancy.settings import load_settings

    s = serve_app(load_settings({"database_url": plan_db, "language": "nl"}))
    try:
        page, log = new_page()
        page.goto(s.url + "/plan" + QUERY, timeout=120_000)
        _idle(page)
        body = page.locator(".app-main").inner_text()
        assert "Plannen" in body and "Prognose" in body and "Wat-als" in body
        assert "Modelscores (rolling-origin-backtest)" in body
        assert "Heeft het gewerkt?" in body and "Scorekaart neutrale plekken" in body
        assert "uitkomst" in body and "bureaus vrij" in body
        assert "Geplande veranderingen" in body
        assert "Geen geplande veranderingen" in body
        assert log.errors == [], log.errors
    finally:
        s.stop()
