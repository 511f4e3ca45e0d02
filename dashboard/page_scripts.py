"""Which component bundles a page's HTML loads: dash-ag-grid's bundle only
on the pages whose first layout holds a table (:data:`GRID_PAGES`).

Dash puts every imported component library's script in every page. On the
other pages, dash-ag-grid's 1.3 MB bundle is replaced by
``assets/grid-lazy.js`` (its URL in ``data-bundle``), which stands in for the
AgGrid component and loads the bundle when a table is drawn (a page reached
by navigating in the app) or a link is pointed at or focused.

Assets whose URL changes with their content (Dash's ``?m=<mtime>`` query, or
a version in the file name, like the vendored plotly.js bundle) are served
with a one-year ``Cache-Control`` as Dash serves its component bundles, so a
returning browser does not ask for them again.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import dash
import flask

__all__ = [
    "ASSET_MAX_AGE_S",
    "GRID_LAZY_JS",
    "GRID_PAGES",
    "install_page_scripts",
    "page_scripts",
    "versioned_asset",
]

#: Paths of the pages with a table (dashboard.components.grid) in their
#: first layout: they load dash-ag-grid's bundle with the page.
GRID_PAGES = frozenset({"/", "/rooms", "/devices", "/portfolio"})
#: The stand-in script (assets), kept out of Dash's asset scripts.
GRID_LAZY_JS = "grid-lazy.js"

#: Cache lifetime of a fingerprinted or versioned asset [s] (Dash's own for
#: its component bundles).
ASSET_MAX_AGE_S = 31_536_000
_VERSIONED_NAME = re.compile(r"-\d+\.\d+\.\d+\.min\.js$")

_GRID_TAG = re.compile(
    r'<script src="(?P<src>[^"]*/_dash-component-suites/dash_ag_grid/'
    r'dash_ag_grid[^"/]*\.js)"></script>'
)


def page_scripts(scripts: str, path: str, lazy_src: str) -> str:
    """``scripts`` (Dash's script tags) for the page at ``path``: unchanged
    on a page of :data:`GRID_PAGES`, else dash-ag-grid's bundle tag replaced
    by the stand-in ``lazy_src``."""
    if path in GRID_PAGES:
        return scripts
    return _GRID_TAG.sub(
        lambda m: f'<script src="{lazy_src}" data-bundle="{m["src"]}"></script>',
        scripts,
        count=1,
    )


def versioned_asset(filename: str, fingerprint: str | None) -> bool:
    """Whether an asset's URL changes when its content does: Dash's ``m``
    query (the file's mtime) or a version in its name."""
    return bool(fingerprint) or bool(_VERSIONED_NAME.search(filename))


def install_page_scripts(app: dash.Dash) -> None:
    """Serve each page's HTML with :func:`page_scripts`, and versioned assets
    with a long cache lifetime (:func:`versioned_asset`)."""
    assets = app.get_asset_url("")

    @app.server.after_request
    def _cache_assets(resp: flask.Response) -> flask.Response:
        path = flask.request.path
        if (
            resp.status_code == 200
            and path.startswith(assets)
            and versioned_asset(path, flask.request.args.get("m"))
        ):
            resp.cache_control.no_cache = None
            resp.cache_control.public = True
            resp.cache_control.max_age = ASSET_MAX_AGE_S
        return resp

    original: Callable[..., str] = app.interpolate_index
    lazy_src = app.get_asset_url(GRID_LAZY_JS)

    def interpolate_index(**kwargs: str) -> str:
        if flask.has_request_context():
            path = "/" + (app.strip_relative_path(flask.request.path) or "")  # type: ignore[no-untyped-call]
            kwargs["scripts"] = page_scripts(kwargs["scripts"], path, lazy_src)
        return original(**kwargs)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign, assignment]
