"""Accessibility, titles and a Dutch table in a real browser: axe-core
(npm, tests/dashboard/axe, installed by scripts/setup.sh) injected into every
page finds no serious or critical violation; the filters work from the
keyboard; every page has its own tab title; a Dutch table reads Dutch and its
CSV download is what the table shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.integration]

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = {
    "/": "Overview",
    "/floor-map": "Floor map",
    "/patterns": "Patterns",
    "/rooms": "Meeting rooms",
    "/collaboration": "Collaboration",
    "/devices": "Devices",
    "/export": "Export",
    "/space": "Space history",
    "/plan": "Plan",
    "/portfolio": "Portfolio",
}


@pytest.fixture(scope="module")
def served(demo_db: dict[str, Any], serve_app: Any) -> Iterator[Any]:
    from occupancy.settings import load_settings

    s = serve_app(load_settings({"database_url": demo_db["url"]}))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def served_nl(demo_db: dict[str, Any], serve_app: Any) -> Iterator[Any]:
    from occupancy.settings import load_settings

    s = serve_app(load_settings({"database_url": demo_db["url"], "language": "nl"}))
    yield s
    s.stop()


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#filters-site .Select-value", timeout=15_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
        timeout=15_000,
    )


def _url(served: Any, demo_db: dict[str, Any], path: str) -> str:
    extra = "&space=f0-operations-d001" if path == "/space" else ""
    return served.url + path + demo_db["query"] + extra


@pytest.mark.parametrize("path", list(PAGES))
def test_axe_finds_no_serious_violation_and_the_title_is_the_pages(
    new_page: Any, served: Any, demo_db: dict[str, Any], path: str
) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/setup.sh (npm ci)")
    # axe-core is injected by the test: the dashboard's CSP (no inline
    # scripts) would block it, so this context alone bypasses the CSP.
    page, log = new_page(bypass_csp=True)
    _open(page, _url(served, demo_db, path))
    assert page.title() == f"{PAGES[path]} · Workplace occupancy"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad
    assert log.errors == [], log.errors


def test_navigation_changes_the_tab_title(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    page, _ = new_page()
    _open(page, _url(served, demo_db, "/"))
    page.click("#app-nav-nav_rooms")
    page.wait_for_function(
        "() => document.title.startsWith('Meeting rooms')", timeout=10_000
    )
    assert "from=2026-11-02" in page.url  # the shareable URL keeps the filters


def test_filters_work_from_the_keyboard(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    page, log = new_page()
    _open(page, _url(served, demo_db, "/"))
    # Tab from the page start: the navigation links, then the filters in order.
    order = []
    page.locator("body").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " const f = e.closest('.filter, .app-header'); "
            " return f ? (f.querySelector('[id^=filters-]') || {id: 'nav'}).id : e.id; }"
        )
        if not order or order[-1] != focused:
            order.append(focused)
    filters = [f for f in order if f.startswith("filters-")]
    assert filters[:6] == [
        "filters-site",
        "filters-building",
        "filters-floor",
        "filters-zone",
        "filters-department",
        "filters-period",
    ], order
    # Choose a floor with the keyboard only: focus it, type, Enter.
    page.locator("#filters-floor input").focus()
    page.keyboard.type("First")
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.search.includes('floor=f1')", timeout=10_000)
    # Space toggles the working-hours checkbox.
    page.locator("#filters-wh input").focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => location.search.includes('wh=0')", timeout=10_000)
    assert log.errors == [], log.errors


def test_a_dutch_table_and_its_csv(
    new_page: Any, served_nl: Any, demo_db: dict[str, Any]
) -> None:
    page, log = new_page()
    _open(page, _url(served_nl, demo_db, "/rooms"))
    assert page.title() == "Vergaderruimtes · Werkplekbezetting"
    grid = page.locator("#rooms-verdict-table")
    grid.locator(".ag-row").first.wait_for(timeout=15_000)
    headers = grid.locator(".ag-header-cell-text").all_inner_texts()
    assert headers[:4] == [
        "Ruimte",
        "Oordeel",
        "Zitplaatsen",
        "90e percentiel personen",
    ]
    assert "Bezet (u min)" in headers
    # The seeded room: 4 people 10:00-11:00 on two days: 2 h in use, p90 4.
    row = grid.locator(".ag-center-cols-container .ag-row").first
    cells = row.locator(".ag-cell").all_inner_texts()
    verdict = grid.locator(".ag-pinned-left-cols-container .ag-row").first
    verdict_cells = verdict.locator(".ag-cell").all_inner_texts()
    shown = verdict_cells + cells
    assert shown[1] in ("Te groot", "Juiste maat", "Te klein")
    assert shown[-1] == "2 u 00 min"
    assert shown[-2] == "4,0"  # mean people, Dutch decimal comma
    with page.expect_download() as got:
        page.click("#rooms-verdict-table .csv-button")
    text = Path(got.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Ruimte", "Oordeel", "Zitplaatsen"]
    assert rows[1][-1] == "2 u 00 min" and rows[1][-2] == "4,0"
    assert log.errors == [], log.errors
