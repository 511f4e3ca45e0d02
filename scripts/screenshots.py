"""Screenshots of every dashboard page, taken by headless Chromium (Debian's),
from a running dashboard (the live demo: ``occupancy demo``):
``python scripts/screenshots.py --url http://127.0.0.1:8050 --out docs/img``
(period: the 7 days ending today, as the demo backfills them; or --from/--to).
Besides every page: the floor map's live layer, zoomed in, and a Dutch page
when ``--url-nl`` points at a dashboard started with ``--language nl``.
The README and docs show them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PAGES = [
    "/",
    "/floor-map",
    "/patterns",
    "/rooms",
    "/collaboration",
    "/devices",
    "/export",
    "/space",
    "/plan",
    "/portfolio",
]


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--url", default="http://127.0.0.1:8050")
    today = dt.date.today()
    p.add_argument(
        "--from",
        dest="start",
        default=(today - dt.timedelta(days=6)).isoformat(),
        help="First day (YYYY-MM-DD) [6 days ago].",
    )
    p.add_argument(
        "--to", dest="end", default=today.isoformat(), help="Last day [today]."
    )
    p.add_argument("--url-nl", help="A dashboard in Dutch: its rooms page too.")
    p.add_argument(
        "--space", default="f1-finance-d001", help="Space for the /space page."
    )
    p.add_argument("--site", default="hq", help="Site of the filters [hq].")
    p.add_argument("--out", type=Path, default=Path("docs/img"))
    p.add_argument(
        "--page", action="append", help="Only this page path (repeat), e.g. /plan."
    )
    p.add_argument("--language", default="", help="Suffix of the file names, e.g. nl.")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    query = f"?site={args.site}&from={args.start}&to={args.end}&wh=1"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for path in args.page or PAGES:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            errors: list[str] = []
            page.on(
                "console",
                lambda m, errs=errors: (
                    errs.append(m.text) if m.type == "error" else None
                ),
            )
            extra = f"&space={args.space}" if path == "/space" else ""
            page.goto(args.url + path + query + extra)
            page.wait_for_load_state("networkidle")
            page.wait_for_function(
                "() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
                timeout=120_000,
            )
            name = "overview" if path == "/" else path.strip("/").replace("-", "_")
            suffix = f"_{args.language}" if args.language else ""
            shot = args.out / f"dashboard_{name}{suffix}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(
                f"{shot}{'  console errors: ' + '; '.join(errors) if errors else ''}",
                file=sys.stderr,
            )
            ctx.close()
        if not args.page or "/floor-map" in args.page:
            # the live layer needs live data: only with the floor map asked for
            _live_map(browser, args.url + "/floor-map" + query, args.out)
        if args.url_nl:
            _shot(
                browser,
                args.url_nl + "/rooms" + query,
                args.out / "dashboard_rooms_nl.png",
            )
        browser.close()
    return 0


def _ready(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
        timeout=120_000,
    )


def _shot(browser: Any, url: str, path: Path) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url)
    _ready(page)
    page.screenshot(path=str(path), full_page=True)
    print(path, file=sys.stderr)
    ctx.close()


def _live_map(browser: Any, url: str, out: Path) -> None:
    """The floor map's live layer, whole and zoomed in on the top floor's
    first neighbourhood (desk names appear)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url)
    _ready(page)
    page.locator("#floormap-measure label").last.click(timeout=120_000)
    _ready(page)
    page.screenshot(path=str(out / "dashboard_floor_map_live.png"), full_page=True)
    print(out / "dashboard_floor_map_live.png", file=sys.stderr)
    page.evaluate(
        """() => { const g = document.querySelector('#floormap-graph .js-plotly-plot');
        return Plotly.relayout(g, {'xaxis.range': [0, 24], 'yaxis.range': [14, 0]}); }"""
    )
    page.wait_for_function(
        "() => document.querySelector('#floormap-graph .js-plotly-plot')"
        ".data.some((d) => d.name === 'space names' && d.visible === true)",
        timeout=60_000,
    )
    _ready(page)
    page.locator("#floormap-graph").screenshot(
        path=str(out / "dashboard_floor_map_zoom.png")
    )
    print(out / "dashboard_floor_map_zoom.png", file=sys.stderr)
    ctx.close()


if __name__ == "__main__":
    sys.exit(main())
