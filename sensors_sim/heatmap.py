"""Hour-of-week heatmap of true desk occupancy (the docs' plot).

    .venv/bin/python -m sensors_sim.heatmap docs/img/true_desk_heatmap.png

Pure part: :func:`hour_of_week_occupancy` (intervals → mean share of desks
occupied [%] per weekday × hour). The PNG is rendered offline with plotly.js
and the installed headless Chromium (no kaleido needed)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["hour_of_week_occupancy", "render_png"]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def hour_of_week_occupancy(
    intervals: pd.DataFrame, n_desks: int, tz: str, start: dt.date, days: int
) -> pd.DataFrame:
    """Mean share of desks occupied [%] per (weekday, hour), sampled each minute
    from ``intervals`` rows with activity ``desk``; index Mon..Sun, columns 0..23.
    Weeks are averaged over the simulated period (closed days included)."""
    desk = intervals[intervals["activity"] == "desk"]
    t0 = pd.Timestamp(start, tz=tz)
    minutes = pd.date_range(t0, periods=days * 1440, freq="min")
    grid = minutes.tz_convert("UTC").as_unit("ns").asi8
    s = desk["start"].dt.as_unit("ns").astype("int64").to_numpy()
    e = desk["end"].dt.as_unit("ns").astype("int64").to_numpy()
    occupied = np.zeros(len(grid) + 1, dtype=np.int64)
    np.add.at(occupied, np.searchsorted(grid, s), 1)
    np.add.at(occupied, np.searchsorted(grid, e), -1)
    level = np.cumsum(occupied)[:-1]
    frame = pd.DataFrame(
        {"wd": minutes.weekday, "h": minutes.hour, "pct": level / n_desks * 100}
    )
    table = frame.groupby(["wd", "h"])["pct"].mean().unstack("h")
    table.index = [DAYS[i] for i in table.index]
    return table


def render_png(table: pd.DataFrame, path: Path, title: str) -> None:
    """Render the heatmap to PNG with plotly.js in headless Chromium."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy().round(1),
            x=[f"{h:02d}:00" for h in table.columns],
            y=list(table.index),
            colorscale="YlOrRd",
            zmin=0,
            colorbar={"title": "% desks"},
            hovertemplate="%{y} %{x}: %{z}%<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        width=1000,
        height=420,
        yaxis={"autorange": "reversed"},
        xaxis={"title": "hour of day (local time)"},
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
    )
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise RuntimeError("chromium not found: needed to render the PNG")
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "plot.html"
        fig.write_html(
            html,
            include_plotlyjs=True,
            full_html=True,
            config={"displayModeBar": False},
        )
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--hide-scrollbars",
                f"--screenshot={path.resolve()}",
                "--window-size=1000,420",
                "--virtual-time-budget=5000",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> None:
    from occupancy.building import load_building

    from . import load_scenario, simulate

    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--start", default="2026-03-02")
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    site = load_building(root / "examples" / "office.yaml")
    sc = load_scenario(None).replace(sensors={"desk_heartbeat_s": 3600})
    start = dt.date.fromisoformat(args.start)
    r = simulate(site, sc, start, args.days, args.seed)
    n_desks = sum(1 for _ in site.desks())
    table = hour_of_week_occupancy(
        r.truth["intervals"], n_desks, site.timezone, start, args.days
    )
    print(table.loc[["Mon", "Tue", "Wed", "Thu", "Fri"], 8:18].round(0).to_string())
    render_png(
        table,
        args.out,
        f"True desk occupancy, example building, {args.days} days from {start} "
        f"(mean % of {n_desks} desks)",
    )


if __name__ == "__main__":
    main()
