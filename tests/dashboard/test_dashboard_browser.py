"""Real-browser tests: headless Chromium (Debian's) through Playwright against
the app served on a free port, with the example building loaded and a hand-made
week analysed by the real analytics pipeline (see conftest.seed_demo)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PAGES = (
    "/",
    "/floor-map",
    "/patterns",
    "/rooms",
    "/collaboration",
    "/devices",
    "/export",
    "/space",
)
GRAPH_READY = """(sel) => { const g = document.querySelector(sel + ' .js-plotly-plot');
    return !!(g && g._fullData && g._fullData.length > 0); }"""
#: The floor map's hover/click markers: the trace named "spaces"
#: (dashboard.floorplan.SPACE_MARKERS), one point per desk and room.
MARKERS = "g.data.findIndex(d => d.name === 'spaces')"
DESK_COUNT = f"""() => {{ const g = document.querySelector('#floormap-graph .js-plotly-plot');
    return g.data[{MARKERS}].customdata.filter(c => c[1] === 'desk').length; }}"""


@pytest.fixture(scope="module")
def served(demo_db: dict[str, Any], serve_app: Any) -> Iterator[Any]:
    from occupancy.settings import load_settings

    s = serve_app(
        load_settings({"database_url": demo_db["url"], "dashboard_prerender": True})
    )
    yield s
    s.stop()


def _wait_idle(page: Any) -> None:
    """Wait until Dash has no callback in flight."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
        timeout=15_000,
    )


def _choose(page: Any, control: str, label: str) -> None:
    page.click(f"#{control} .Select-control")
    page.click(f".VirtualizedSelectOption:text-is('{label}')")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_without_console_errors(
    new_page: Any, served: Any, demo_db: dict[str, Any], path: str
) -> None:
    page, log = new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    extra = "&space=f0-operations-d001" if path == "/space" else ""
    response = page.goto(served.url + path + demo_db["query"] + extra)
    assert response is not None and response.status == 200
    page.wait_for_selector("#filters-site .Select-value", timeout=15_000)
    _wait_idle(page)
    assert page.locator(".app-main h2").first.inner_text().strip() != ""
    assert page.locator(".app-error").inner_text() == ""
    query = parse_qs(urlsplit(page.url).query)
    assert query["from"] == ["2026-11-02"] and query["to"] == ["2026-11-08"]
    # The first layout is the whole page: every graph drawn, no callback run,
    # plotly.js the cartesian bundle (not the full one).
    graphs = page.locator(".dash-graph").count()
    assert page.locator(".js-plotly-plot .main-svg").count() >= graphs
    assert (graphs == 0) == (path == "/export")
    assert not [u for u in requests if "_dash-update-component" in u]
    # The layout was asked for once: assets/layout-early.js's request, which
    # the renderer took instead of sending its own.
    assert [u for u in requests if u.endswith("/_dash-layout")] == [
        served.url + "/_dash-layout"
    ]
    assert [u for u in requests if "layout-early.js" in u] == [
        served.url + "/assets/layout-early.js"
    ]
    assert not [u for u in requests if "plotly.min.js" in u]
    assert [u for u in requests if "plotly-cartesian" in u] == (
        []
        if path == "/export"
        else [served.url + "/assets/plotly-cartesian-4.1.1.min.js"]
    )
    assert log.errors == [], log.errors


def test_a_link_without_filters_and_the_navigation_draw_the_page(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    page, log = new_page()
    # Without its filters the page comes from the layout, and the filter sync
    # completes the URL with the default period (the 28 days ending yesterday).
    page.goto(served.url + "/rooms?site=hq")
    page.wait_for_function("() => location.search.includes('from=')", timeout=15_000)
    # The default period follows the wall clock, and the demo week may lie
    # outside it (the graph then says there is no data): wait for the page's
    # callbacks, not for a drawn graph.
    page.wait_for_selector("#rooms-sizing", state="attached", timeout=15_000)
    _wait_idle(page)
    query = parse_qs(urlsplit(page.url).query)
    assert query["site"] == ["hq"] and query["wh"] == ["1"]
    # The pages router draws the page navigated to, with the same filters.
    page.goto(served.url + "/rooms" + demo_db["query"])
    page.wait_for_function(GRAPH_READY, arg="#rooms-sizing", timeout=15_000)
    page.click("#app-nav-nav_patterns")
    page.wait_for_function("() => location.pathname === '/patterns'", timeout=10_000)
    page.wait_for_function(GRAPH_READY, arg="#patterns-heatmap", timeout=15_000)
    _wait_idle(page)
    assert parse_qs(urlsplit(page.url).query)["from"] == ["2026-11-02"]
    assert page.locator(".js-plotly-plot .main-svg").count() >= 3
    assert log.errors == [], log.errors


def test_a_page_without_tables_loads_the_grid_bundle_only_for_the_next_table(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    """dashboard/page_scripts.py: /patterns has no table, so dash-ag-grid's
    bundle is not loaded with it; the rooms page reached from there (a click
    without pointing at the link first, so no fetch ahead) draws its table
    through the stand-in, which loads the bundle then."""
    page, log = new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(served.url + "/patterns" + demo_db["query"])
    page.wait_for_function(GRAPH_READY, arg="#patterns-heatmap", timeout=15_000)
    _wait_idle(page)
    assert not [u for u in requests if "dash_ag_grid" in u]
    assert page.evaluate("() => window.dash_ag_grid.AgGrid.name") == "StandIn"
    page.evaluate("() => document.querySelector('#app-nav-nav_rooms').click()")
    page.wait_for_function("() => location.pathname === '/rooms'", timeout=10_000)
    page.wait_for_selector("#rooms-verdict-table .ag-row", timeout=15_000)
    _wait_idle(page)
    assert len([u for u in requests if "dash_ag_grid.v" in u]) == 1
    assert page.evaluate("() => window.dash_ag_grid.AgGrid.name") != "StandIn"
    rows = page.locator("#rooms-verdict-table .ag-center-cols-container .ag-row")
    assert rows.count() > 0
    assert page.locator(".app-error").inner_text() == ""
    assert log.errors == [], log.errors


def test_overview_kpis_follow_a_filter_change_and_the_url(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    page, log = new_page()
    page.goto(served.url + "/" + demo_db["query"])
    kpi = page.locator("#overview-kpi-time_used_pct .kpi-value")
    # Building: 12 desks × 3 h + the room 1 h, over 13 spaces × 10 h, both days:
    # 37 / 130 = 28.5 %.
    kpi.wait_for(timeout=15_000)
    assert kpi.inner_text() == "28.5 %"
    _choose(page, "filters-department", "Operations")
    page.wait_for_function(
        "() => location.search.includes('department=operations')", timeout=10_000
    )
    # Operations: only its 12 desks, 3 h of 10 h = 30 %.
    page.wait_for_function(
        "() => document.querySelector('#overview-kpi-time_used_pct .kpi-value').innerText === '30.0 %'",
        timeout=10_000,
    )
    assert "from=2026-11-02" in page.url
    assert log.errors == []


def test_floor_map_shows_every_desk_and_a_filter_updates_it_and_the_url(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    page, log = new_page()
    page.goto(served.url + "/floor-map" + demo_db["query"])
    page.wait_for_function(GRAPH_READY, arg="#floormap-graph", timeout=15_000)
    _wait_idle(page)
    assert page.evaluate(DESK_COUNT) == 298
    # Desk d001 was used 3 h of 10 h on each day: 30 %.
    value = page.evaluate(
        f"""() => {{ const g = document.querySelector('#floormap-graph .js-plotly-plot');
        const m = {MARKERS};
        const i = g.data[m].customdata.findIndex(c => c[0] === 'f0-operations-d001');
        return g._fullData[m].hovertext[i]; }}"""
    )
    assert "Time used (%): 30.0 %" in value
    _choose(page, "filters-floor", "First floor")
    page.wait_for_function("() => location.search.includes('floor=f1')", timeout=10_000)
    page.wait_for_function(
        "() => { const g = document.querySelector('#floormap-graph .js-plotly-plot');"
        f" return g.data[{MARKERS}].customdata.every(c => c[0].startsWith('f1-')); }}",
        timeout=10_000,
    )
    # examples/make_office.py: three neighbourhoods of 33 desks on the first floor.
    assert page.evaluate(DESK_COUNT) == 99
    # A shared link restores the view.
    other, other_log = new_page()
    other.goto(page.url)
    other.wait_for_function(GRAPH_READY, arg="#floormap-graph", timeout=15_000)
    _wait_idle(other)
    assert other.evaluate(DESK_COUNT) == 99
    assert (
        other.locator("#filters-floor .Select-value-label").inner_text()
        == "First floor"
    )
    assert log.errors == [] and other_log.errors == []


def test_clicking_a_desk_opens_its_history(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    page, log = new_page()
    page.goto(served.url + "/floor-map" + demo_db["query"] + "&floor=f0")
    page.wait_for_function(GRAPH_READY, arg="#floormap-graph", timeout=15_000)
    _wait_idle(page)
    point = page.evaluate(
        f"""() => {{ const g = document.querySelector('#floormap-graph .js-plotly-plot');
        const m = {MARKERS};
        const i = g.data[m].customdata.findIndex(c => c[0] === 'f0-operations-d001');
        const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
        const r = g.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(g._fullData[m].x[i]),
                r.top + ya._offset + ya.l2p(g._fullData[m].y[i])]; }}"""
    )
    page.mouse.move(point[0], point[1])
    page.mouse.click(point[0], point[1])
    page.wait_for_function(
        "() => location.pathname === '/space' && location.search.includes('space=f0-operations-d001')",
        timeout=10_000,
    )
    page.wait_for_selector(
        "#space-title:has-text('f0-operations-d001')", timeout=10_000
    )
    page.wait_for_function(GRAPH_READY, arg="#space-history", timeout=10_000)
    # Both seeded days at 30 %.
    ys = page.evaluate(
        "() => Array.from(document.querySelector('#space-history .js-plotly-plot')._fullData[0].y)"
    )
    assert [round(y, 6) for y in ys] == [30.0, 30.0]
    assert "floor=f0" in page.url
    assert log.errors == []


def test_collaboration_marks_suppressed_cells(
    new_page: Any, served: Any, demo_db: dict[str, Any]
) -> None:
    page, log = new_page()
    page.goto(served.url + "/collaboration" + demo_db["query"])
    page.wait_for_function(GRAPH_READY, arg="#collab-matrix", timeout=15_000)
    _wait_idle(page)
    text = page.evaluate(
        """() => { const g = document.querySelector('#collab-matrix .js-plotly-plot');
        return {x: g._fullData[1].x, text: g._fullData[1].text}; }"""
    )
    names = list(text["x"])
    legal, it, hr = names.index("Legal"), names.index("IT"), names.index("HR")
    # 2 Legal badges < k = 5: every Legal cell is marked, none has a value.
    assert text["text"][legal][it] == "×" and text["text"][hr][legal] == "×"
    # IT and HR were together the whole time: lift 1.00.
    assert text["text"][it][hr] == "1.00"
    assert log.errors == []


def test_csv_download_matches_occupancy_export(
    new_page: Any, served: Any, demo_db: dict[str, Any], tmp_path: Path
) -> None:
    page, log = new_page()
    page.goto(served.url + "/export" + demo_db["query"])
    button = page.locator("button.export-button").nth(1)
    button.wait_for(timeout=15_000)
    _wait_idle(page)
    assert page.locator(".export-row code").nth(1).inner_text() == "utilization"
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "utilization-floor_2026-11-02_2026-11-08.csv"
    got = Path(download.path()).read_bytes()
    cli = Path(sys.executable).parent / "occupancy"
    env = {**os.environ, "OCCUPANCY_DATABASE_URL": demo_db["url"]}
    want = subprocess.run(
        [
            str(cli),
            "-q",
            "export",
            "utilization",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-08",
            "--level",
            "floor",
        ],
        capture_output=True,
        check=True,
        env=env,
        timeout=60,
    ).stdout
    assert got == want
    assert got.count(b"\n") == 2  # header + floor f0 (the only floor with data)
    assert log.errors == []


def test_auth_on_refuses_unauthenticated_requests(
    new_page: Any, serve_app: Any, database_url: str
) -> None:
    from occupancy.settings import load_settings

    s = serve_app(
        load_settings({"database_url": database_url, "auth_users": "fm:s3cret"})
    )
    try:
        page, _ = new_page()
        # Chromium's network stack, without credentials (page.goto would open a login dialog).
        for path in ("/devices", "/_dash-layout", "/_dash-dependencies"):
            r = page.request.get(s.url + path)
            assert r.status == 401, path
            assert "Authentication required" in r.text()
        r = page.request.post(s.url + "/_dash-update-component", data="{}")
        assert r.status == 401
        page, log = new_page(http_credentials={"username": "fm", "password": "s3cret"})
        response = page.goto(s.url + "/devices")
        assert response is not None and response.status == 200
        page.wait_for_selector("#devices-kpis .kpi", timeout=15_000)
        assert log.errors == []
    finally:
        s.stop()


def test_dutch_labels(new_page: Any, serve_app: Any, database_url: str) -> None:
    from occupancy.settings import load_settings

    s = serve_app(load_settings({"database_url": database_url, "language": "nl"}))
    try:
        page, log = new_page()
        page.goto(s.url + "/floor-map")
        page.wait_for_selector("h2:has-text('Plattegrond')", timeout=15_000)
        assert page.locator("nav").inner_text().count("Overzicht") == 1
        _wait_idle(page)
        assert log.errors == []
    finally:
        s.stop()
