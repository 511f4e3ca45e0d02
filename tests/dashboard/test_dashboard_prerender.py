"""The first-layout pre-render (dashboard/prerender.py) against stock Dash.

Two apps over the same demo week: stock Dash (the default) and the pre-render
(``dashboard_prerender``). For every page URL the page the pre-render puts in
the first layout must be exactly what stock Dash's own pages router returns
for that URL when the browser calls it (same components, figures and values),
and the stock app must leave the page to that router."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dash
import plotly
import pytest

pytestmark = pytest.mark.integration

PATHS = ("/", "/floor-map", "/patterns", "/rooms", "/collaboration", "/devices")


@pytest.fixture(scope="module")
def apps(demo_db: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    stock = create_app(load_settings({"database_url": demo_db["url"]}))
    pre = create_app(
        load_settings({"database_url": demo_db["url"], "dashboard_prerender": True})
    )
    yield stock, pre
    for app in (stock, pre):
        app.server.extensions["occupancy_dashboard"].close()


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


def _by_id(tree: Any) -> dict[str, dict[str, Any]]:
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


def _layout(app: Any, url: str | None) -> dict[str, dict[str, Any]]:
    """``/_dash-layout`` as the renderer started on page ``url`` gets it."""
    headers = {"Referer": f"http://127.0.0.1{url}"} if url else {}
    app.server.extensions["occupancy_dashboard"].clear_cache()
    response = app.server.test_client().get("/_dash-layout", headers=headers)
    assert response.status_code == 200
    return _by_id(response.get_json())


def _stock_router(app: Any, pathname: str, search: str) -> dict[str, Any]:
    """What stock Dash's pages router returns when the browser mounts the
    page container's Location at ``pathname`` + ``search``."""
    app.server.extensions["occupancy_dashboard"].clear_cache()
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname", "_pages_location.search"],
        "state": [],
    }
    response = app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    result: dict[str, Any] = response.get_json()["response"]
    return result


@pytest.mark.parametrize("path", PATHS)
def test_prerendered_page_equals_stock_dashs_router(
    apps: tuple[Any, Any], demo_db: dict[str, Any], path: str
) -> None:
    stock, pre = apps
    search = demo_db["query"]
    routed = _stock_router(stock, path, search)
    layout = _layout(pre, path + search)
    assert layout["_pages_location"]["pathname"] == path
    assert layout["_pages_location"]["search"] == search
    content = layout["_pages_content"]["children"]
    assert content is not None
    assert content == _json(routed["_pages_content"]["children"])
    assert layout["_pages_store"]["data"] == routed["_pages_store"]["data"]
    # Not vacuous: the page has its figures (or tables) in both.
    text = json.dumps(content)
    assert '"figure"' in text or path == "/devices"


def test_stock_app_leaves_the_page_to_dashs_router(
    apps: tuple[Any, Any], demo_db: dict[str, Any]
) -> None:
    stock, _pre = apps
    layout = _layout(stock, "/rooms" + demo_db["query"])
    # Dash's own page container, empty: its router fills it after mounting.
    assert layout["_pages_content"].get("children") is None
    assert "pathname" not in layout["_pages_location"]
    assert "search" not in layout["app-url"]
    assert "value" not in layout["filters-site"]
    routed = _stock_router(stock, "/rooms", demo_db["query"])
    assert "rooms-sizing" in _by_id(routed["_pages_content"]["children"])


def test_supported_dash_versions() -> None:
    from dashboard.prerender import TESTED_DASH, supported

    assert supported()  # the installed Dash is a tested one (pyproject pins it)
    major, minor = TESTED_DASH[-1]
    assert supported(f"{major}.{minor}.9")
    assert not supported(f"{major}.{minor + 1}.0")
    assert not supported(f"{major + 1}.0.0")
    assert not supported("garbage")


def test_an_untested_dash_falls_back_to_stock(
    demo_db: dict[str, Any], monkeypatch: Any, caplog: Any
) -> None:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    monkeypatch.setattr(dash, "__version__", "99.0.0")
    app = create_app(
        load_settings({"database_url": demo_db["url"], "dashboard_prerender": True})
    )
    try:
        layout = _layout(app, "/rooms" + demo_db["query"])
    finally:
        app.server.extensions["occupancy_dashboard"].close()
    assert layout["_pages_content"].get("children") is None
    assert any("not a tested version" in r.getMessage() for r in caplog.records)


def test_pyproject_pins_the_tested_dash_and_plotly() -> None:
    import tomllib
    from pathlib import Path

    from dashboard.prerender import TESTED_DASH

    root = Path(__file__).resolve().parents[2]
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    (lo_major, lo_minor), (hi_major, hi_minor) = TESTED_DASH[0], TESTED_DASH[-1]
    assert f"dash>={lo_major}.{lo_minor},<{hi_major}.{hi_minor + 1}" in deps
    assert f"plotly=={plotly.__version__}" in deps
