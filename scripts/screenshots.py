"""Screenshots of every dashboard page, taken by headless Chromium (Debian's),
from a running dashboard: ``python scripts/screenshots.py --url http://127.0.0.1:8050
--from 2026-11-09 --to 2026-11-15 --out docs/img``. The README and docs show them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
]


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--url", default="http://127.0.0.1:8050")
    p.add_argument(
        "--from", dest="start", required=True, help="First day (YYYY-MM-DD)."
    )
    p.add_argument("--to", dest="end", required=True, help="Last day (YYYY-MM-DD).")
    p.add_argument(
        "--space", default="f1-finance-d001", help="Space for the /space page."
    )
    p.add_argument("--out", type=Path, default=Path("docs/img"))
    p.add_argument(
        "--page", action="append", help="Only this page path (repeat), e.g. /plan."
    )
    p.add_argument("--language", default="", help="Suffix of the file names, e.g. nl.")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    query = f"?site=hq&from={args.start}&to={args.end}&wh=1"
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
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
