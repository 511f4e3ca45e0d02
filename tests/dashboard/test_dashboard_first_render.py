"""The first render: the layout of a page's URL arrives complete (figures,
filters, links) and equals what the page's callbacks return for that URL;
the vendored plotly.js bundle matches plotly's and draws every trace type the
pages use. On the demo week analysed by the real pipeline
(conftest.seed_demo)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
import pytest

pytestmark = pytest.mark.integration

ASSETS = Path(__file__).resolve().parents[2] / "dashboard" / "assets"
#: Trace modules of plotly.js-cartesian-dist (its README).
CARTESIAN_TRACES = {
    "bar",
    "box",
    "contour",
    "heatmap",
    "histogram",
    "histogram2d",
    "histogram2dcontour",
    "image",
    "pie",
    "scatter",
    "scatterternary",
    "violin",
}

#: page path -> (its callback in the page module, the callback's arguments
#: after the search, {component id: property} of the callback's outputs in order).
PAGES: dict[str, tuple[str, str, tuple[Any, ...], list[tuple[str, str]]]] = {
    "/": (
        "overview",
        "update_period",
        (),
        [
            ("overview-kpis", "children"),
            ("overview-bands", "figure"),
            ("overview-top-under", "children"),
            ("overview-top-over", "children"),
        ],
    ),
    "/floor-map": (
        "floor_map",
        "update_floor_map",
        ("time_used_pct", None),
        [
            ("floormap-graph", "figure"),
            ("floormap-note", "children"),
            ("floormap-tick", "disabled"),
        ],
    ),
    "/patterns": (
        "patterns",
        "update_patterns",
        ("building",),
        [
            ("patterns-heatmap", "figure"),
            ("patterns-dow", "figure"),
            ("patterns-weekly", "figure"),
            ("patterns-note", "children"),
        ],
    ),
    "/rooms": (
        "rooms",
        "update_rooms",
        (),
        [
            ("rooms-kpis", "children"),
            ("rooms-sizing", "figure"),
            ("rooms-verdicts", "children"),
            ("rooms-bookings", "children"),
        ],
    ),
    "/collaboration": (
        "collaboration",
        "update_collaboration",
        (),
        [
            ("collab-matrix", "figure"),
            ("collab-network", "figure"),
            ("collab-mix", "figure"),
            ("collab-note", "children"),
        ],
    ),
    "/devices": (
        "devices",
        "update_devices",
        (),
        [
            ("devices-kpis", "children"),
            ("devices-rejected", "figure"),
            ("devices-offline", "children"),
            ("devices-unassigned", "children"),
        ],
    ),
    "/space": (
        "space",
        "update_space",
        (),
        [("space-title", "children"), ("space-history", "figure")],
    ),
}


@pytest.fixture(scope="module")
def app(demo_db: dict[str, Any]) -> Iterator[Any]:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    app = create_app(
        load_settings({"database_url": demo_db["url"], "dashboard_prerender": True})
    )
    app.server.test_client().get("/")  # the first request sets up the pages router
    yield app
    app.server.extensions["occupancy_dashboard"].close()


def _json(value: Any) -> Any:
    """``value`` as the browser gets it (Dash's JSON of components and figures)."""
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


def _by_id(tree: Any) -> dict[str, dict[str, Any]]:
    """Every component of a layout's JSON with an id: id -> its props."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict) and "props" in node:
            props = node["props"]
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            walk(props.get("children"))

    walk(tree)
    return found


def _layout_of(app: Any, url: str | None) -> dict[str, dict[str, Any]]:
    """The components of ``/_dash-layout`` as the renderer of page ``url`` gets it."""
    headers = {"Referer": f"http://127.0.0.1{url}"} if url else {}
    app.server.extensions["occupancy_dashboard"].clear_cache()
    response = app.server.test_client().get("/_dash-layout", headers=headers)
    assert response.status_code == 200
    return _by_id(response.get_json())


def _search(path: str, demo_db: dict[str, Any], department: str = "") -> str:
    """The page's link as the app writes it (filters complete, in order)."""
    query = demo_db["query"]
    if department:
        query = query.replace("?site=hq", f"?site=hq&department={department}")
    return query + ("&space=f0-operations-d001" if path == "/space" else "")


@pytest.mark.parametrize("filtered", [False, True], ids=["building", "department"])
@pytest.mark.parametrize("path", list(PAGES))
def test_page_layout_holds_what_its_callback_returns(
    app: Any, demo_db: dict[str, Any], path: str, filtered: bool
) -> None:
    from dashboard.app import page_module

    module, name, args, outputs = PAGES[path]
    search = _search(path, demo_db, "operations" if filtered else "")
    layout = _layout_of(app, path + search)
    # The computation the page's callback did on the first load before, on
    # its own (nothing cached from the layout).
    app.server.extensions["occupancy_dashboard"].clear_cache()
    with app.server.test_request_context("/_dash-update-component"):
        returned = getattr(page_module(module), name)(search, *args)
    for (cid, prop), value in zip(outputs, _json(list(returned)), strict=True):
        assert cid in layout, cid
        assert layout[cid].get(prop) == value, (cid, prop)
    assert layout["app-url"]["search"] == search
    assert layout["_pages_location"]["pathname"] == path


def test_overview_now_in_the_layout_equals_its_callback(
    app: Any, demo_db: dict[str, Any]
) -> None:
    from dashboard.app import page_module

    layout = _layout_of(app, "/" + demo_db["query"])
    with app.server.test_request_context("/_dash-update-component"):
        cards, fig = page_module("overview").update_now(None, demo_db["query"])
    assert layout["overview-now"]["children"] == _json(cards)
    assert layout["overview-now-floors"]["figure"] == _json(fig)


def test_filters_and_links_in_the_layout_equal_the_sync_callback(
    app: Any, demo_db: dict[str, Any]
) -> None:
    from dashboard.app import NAV, sync_filters

    search = demo_db["query"].replace("?site=hq", "?site=hq&floor=f0")
    layout = _layout_of(app, "/patterns" + search)
    with app.server.test_request_context("/_dash-update-component"):
        state = _json(list(sync_filters(search, [None] * 8, "app-url"))[1:])
    keys = ("site", "building", "floor", "zone", "department")
    got = [layout[f"filters-{k}"].get("value") for k in keys]
    got += [
        layout["filters-period"]["start_date"],
        layout["filters-period"]["end_date"],
        layout["filters-wh"]["value"],
    ]
    got += [layout[f"filters-{k}"]["options"] for k in keys]
    assert got == state
    assert got[2] == "f0" and got[5:8] == ["2026-11-02", "2026-11-08", ["wh"]]
    for path, key in NAV:
        assert layout[f"app-nav-{key}"]["href"] == path + search


def test_without_the_page_url_the_router_and_the_sync_fill_the_page(
    app: Any, demo_db: dict[str, Any]
) -> None:
    # No Referer (or one cut to the origin): Dash's own start, nothing preset.
    for url in (None, "/"):
        layout = _layout_of(app, url)
        assert layout["_pages_content"].get("children") is None
        assert "search" not in layout["app-url"]
        assert "pathname" not in layout["_pages_location"]
        assert "value" not in layout["filters-site"]
    # Filters missing from the URL: the page is there, but the URL is left
    # unset so that mounting it runs the sync, which writes the filters.
    layout = _layout_of(app, "/rooms?site=hq")
    assert "rooms-sizing" in layout
    assert "search" not in layout["app-url"]
    assert "value" not in layout["filters-site"]


def test_requested_route_reads_the_layout_requests_referer(app: Any) -> None:
    from dashboard.app import requested_route

    def route(path: str, referer: str | None) -> Any:
        headers = {"Referer": referer} if referer else {}
        with app.server.test_request_context(path, headers=headers):
            return requested_route()

    q = "?site=hq&from=2026-11-02&to=2026-11-08&wh=1"
    assert route("/_dash-layout", f"http://h:8050/rooms{q}") == ("/rooms", q)
    assert route("/_dash-layout", "http://h:8050/rooms") == ("/rooms", "")
    assert route("/_dash-layout", f"http://h:8050/{q}") == ("/", q)
    assert route("/_dash-layout", "http://h:8050/") is None
    assert route("/_dash-layout", "http://h:8050") is None
    assert route("/_dash-layout", None) is None
    assert route("/_dash-update-component", f"http://h:8050/rooms{q}") is None


def test_a_failing_page_layout_shows_the_error_banner(
    app: Any, demo_db: dict[str, Any], monkeypatch: Any, caplog: Any
) -> None:
    from dashboard.app import page_module

    def broken(_search: str) -> Any:
        raise RuntimeError("database gone")

    monkeypatch.setattr(page_module("rooms"), "update_rooms", broken)
    layout = _layout_of(app, "/rooms" + demo_db["query"])
    content = json.dumps(layout["_pages_content"])
    assert "app-error" in content and "database gone" not in content
    assert "figure" not in layout["rooms-sizing"]
    assert any("database gone" in r.getMessage() for r in caplog.records)


def test_every_figure_is_drawn_by_the_cartesian_bundle(
    app: Any, demo_db: dict[str, Any]
) -> None:
    types = set()
    for path in PAGES:
        layout = _layout_of(app, path + _search(path, demo_db))
        for props in layout.values():
            for trace in props.get("figure", {}).get("data", []):
                types.add(trace.get("type", "scatter"))
    assert {"bar", "heatmap", "scatter"} <= types
    assert types <= CARTESIAN_TRACES


def test_vendored_plotly_is_plotlys_version_and_left_out_of_the_page() -> None:
    from plotly.offline import get_plotlyjs_version

    from dashboard.app import ASSETS_IGNORE

    version = get_plotlyjs_version()
    bundle = ASSETS / f"plotly-cartesian-{version}.min.js"
    assert bundle.exists(), f"vendor plotly.js-cartesian-dist-min@{version}"
    head = bundle.read_text(encoding="utf-8")[:200]
    assert f"plotly.js (cartesian - minified) v{version}" in head
    assert re.search(ASSETS_IGNORE, bundle.name)
    assert not re.search(ASSETS_IGNORE, "preload.js")
    loader = (ASSETS / "preload.js").read_text(encoding="utf-8")
    assert f'"{bundle.name}"' in loader
    # The dcc chunks it preloads are dcc's.
    import dash

    dcc_dir = Path(dash.__file__).parent / "dcc"
    for chunk in re.findall(r'"(dropdown|datepicker|graph)"', loader):
        assert (dcc_dir / f"async-{chunk}.js").exists()


def test_the_page_container_is_dashs(app: Any, demo_db: dict[str, Any]) -> None:
    import dash

    from dashboard import prerender as app_module

    ids = [c.id for c in dash.page_container.children]
    assert ids == [
        app_module.PAGES_LOCATION,
        app_module.PAGES_CONTENT,
        app_module.PAGES_STORE,
        app_module.PAGES_DUMMY,
    ]
    layout = _layout_of(app, "/rooms" + demo_db["query"])
    assert set(ids) <= set(layout)


def test_a_page_whose_layout_fails_is_left_to_the_router(
    app: Any, demo_db: dict[str, Any], monkeypatch: Any
) -> None:
    import dash

    def broken(**_query: Any) -> Any:
        raise RuntimeError("layout gone")

    page = next(p for p in dash.page_registry.values() if p["path"] == "/rooms")
    monkeypatch.setitem(page, "layout", broken)
    layout = _layout_of(app, "/rooms" + demo_db["query"])
    assert layout["_pages_content"].get("children") is None
    assert "pathname" not in layout["_pages_location"]
