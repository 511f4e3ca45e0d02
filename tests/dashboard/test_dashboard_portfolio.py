"""The Portfolio page in headless Chromium over two hand-made buildings
(tests/portfolio_rows.py, analysed by the real pipeline): ranked table with
human headers and units, re-ranking, CSV download, a building's name opens
its Overview with the building filter, Dutch labels."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from portfolio_rows import seed_two_buildings

pytestmark = [pytest.mark.browser, pytest.mark.integration]

QUERY = "?site=pa&from=2026-03-02&to=2026-03-08&wh=1"


@pytest.fixture(scope="module")
def portfolio_db(empty_database_url: str) -> str:
    seed_two_buildings(empty_database_url)
    return empty_database_url


def _serve(serve_app: Any, url: str, **extra: str) -> Any:
    from occupancy.settings import load_settings

    return serve_app(load_settings({"database_url": url, "site": "pa", **extra}))


@pytest.fixture(scope="module")
def served(portfolio_db: str, serve_app: Any) -> Iterator[Any]:
    s = _serve(serve_app, portfolio_db)
    yield s
    s.stop()


def _open(page: Any, url: str) -> None:
    page.goto(url, timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
        timeout=30_000,
    )
    page.locator("#portfolio-table .ag-row").first.wait_for(timeout=30_000)


def _names(page: Any) -> list[str]:
    pinned = page.locator("#portfolio-table .ag-pinned-left-cols-container .ag-row")
    return [r.inner_text().strip() for r in pinned.all()]


def test_portfolio_table_ranked_rerank_csv_and_click_through(
    new_page: Any, served: Any
) -> None:
    page, log = new_page()
    _open(page, served.url + "/portfolio" + QUERY)
    assert page.title() == "Portfolio · Workplace occupancy"
    assert page.locator(".app-error").inner_text() == ""
    headers = page.locator("#portfolio-table .ag-header-cell-text").all_inner_texts()
    assert headers[:4] == ["Building", "Rank", "Time zone", "Desks"]
    assert "Cost per used desk (EUR/year)" in headers
    assert "Desks per present person" in headers
    # pb's desks are busy 8 h a day: the best used, ranked first
    assert _names(page) == ["Building pb", "Building pa"]
    assert page.locator("#pf-kpi-buildings .kpi-value").inner_text() == "2"
    # the weekly trend: a line per building, named
    trend = page.locator("#pf-trend")
    assert trend.locator(".scatterlayer .trace").count() == 2
    assert "Utilization per week" in trend.locator(".gtitle").text_content()
    assert sorted(trend.locator(".legendtext").all_text_contents()) == [
        "Building pa",
        "Building pb",
    ]
    # ranked by cost per used desk: pa (4,000 EUR) before pb (15,000 EUR)
    page.locator("#pf-rank-by").click()
    page.locator("#pf-rank-by .VirtualizedSelectOption").filter(
        has_text="Cost per used desk"
    ).click()
    page.wait_for_function(
        "() => document.querySelector('#portfolio-table .ag-pinned-left-cols-container')"
        ".innerText.trim().startsWith('Building pa')",
        timeout=30_000,
    )
    with page.expect_download() as got:
        page.click("#portfolio-table .csv-button")
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text("utf-8-sig"))))
    assert rows[0][:2] == ["Building", "Rank"]
    body = {r[0]: r for r in rows[1:]}
    cost = rows[0].index("Cost per used desk (EUR/year)")
    assert body["Building pa"][cost].replace(",", "") == "4000"
    assert body["Building pb"][cost].replace(",", "") == "15000"
    # a building's name opens its Overview, filtered on it (a shareable URL)
    page.click("#pf-open-pa")
    page.wait_for_function(
        "() => document.title.startsWith('Overview')", timeout=30_000
    )
    assert "building=pa" in page.url and "site=pa" in page.url
    assert "from=2026-03-02" in page.url
    assert log.errors == [], log.errors


def test_portfolio_page_in_dutch(
    new_page: Any, portfolio_db: str, serve_app: Any
) -> None:
    s = _serve(serve_app, portfolio_db, language="nl")
    try:
        page, log = new_page()
        _open(page, s.url + "/portfolio" + QUERY)
        assert page.title() == "Portefeuille · Werkplekbezetting"
        headers = page.locator(
            "#portfolio-table .ag-header-cell-text"
        ).all_inner_texts()
        assert headers[:2] == ["Gebouw", "Rang"]
        assert "Kosten per gebruikt bureau (EUR/jaar)" in headers
        assert log.errors == [], log.errors
    finally:
        s.stop()


#: Header words wider than their column, and cells whose text is cut off (the
#: font measured with a canvas in the page's own header font).
_CUT_TEXT = """() => {
  const bad = [];
  const ctx = document.createElement('canvas').getContext('2d');
  for (const e of document.querySelectorAll('#portfolio-table .ag-header-cell-text')) {
    const st = getComputedStyle(e);
    ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
    for (const w of e.textContent.split(/\\s+/)) {
      if (ctx.measureText(w).width > e.clientWidth + 0.5) bad.push('header: ' + w);
    }
  }
  for (const e of document.querySelectorAll('#portfolio-table .ag-cell')) {
    if (e.scrollWidth > e.clientWidth + 1) bad.push('cell: ' + e.textContent);
  }
  return bad;
}"""


@pytest.mark.parametrize("language", ["en", "nl"])
def test_no_header_word_broken_and_no_value_cut_off(
    new_page: Any, portfolio_db: str, serve_app: Any, language: str
) -> None:
    """The wide Portfolio table scrolls sideways rather than breaking
    "Utilization" into "Utilizati / on" or cutting "Europe/Amsterdam" to
    "Europ…" (seen in the screenshot of 2026-12-02)."""
    s = _serve(serve_app, portfolio_db, language=language)
    try:
        page, log = new_page()
        _open(page, s.url + "/portfolio" + QUERY)
        assert page.locator("#portfolio-table .ag-cell").count() > 10
        assert page.evaluate(_CUT_TEXT) == []
        assert log.errors == [], log.errors
    finally:
        s.stop()
