"""Which component bundles a page's HTML loads: dash-ag-grid's bundle only
on the pages whose first layout holds a table (:data:`GRID_PAGES`).

Dash puts every imported component library's script in every page. On the
other pages, dash-ag-grid's 1.3 MB bundle is replaced by
``assets/grid-lazy.js`` (its URL in ``data-bundle``), which stands in for the
AgGrid component and loads the bundle when a table is drawn (a page reached
by navigating in the app) or a link is pointed at or focused.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import dash
import flask

__all__ = ["GRID_LAZY_JS", "GRID_PAGES", "install_page_scripts", "page_scripts"]

#: Paths of the pages with a table (dashboard.components.grid) in their
#: first layout: they load dash-ag-grid's bundle with the page.
GRID_PAGES = frozenset({"/", "/rooms", "/devices", "/portfolio"})
#: The stand-in script (assets), kept out of Dash's asset scripts.
GRID_LAZY_JS = "grid-lazy.js"

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


def install_page_scripts(app: dash.Dash) -> None:
    """Serve each page's HTML with :func:`page_scripts`."""
    original: Callable[..., str] = app.interpolate_index
    lazy_src = app.get_asset_url(GRID_LAZY_JS)

    def interpolate_index(**kwargs: str) -> str:
        if flask.has_request_context():
            path = "/" + (app.strip_relative_path(flask.request.path) or "")  # type: ignore[no-untyped-call]
            kwargs["scripts"] = page_scripts(kwargs["scripts"], path, lazy_src)
        return original(**kwargs)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign, assignment]
