"""Colour-blind-safe colours and figure helpers shared by the pages.

Sequential measures use Cividis (readable with every common colour-vision
deficiency and in greyscale); categories use the Okabe-Ito palette, as the
departments in the building file do.
"""

from __future__ import annotations

import logging
from typing import Any

import plotly.graph_objects as go

logger = logging.getLogger(__name__)

__all__ = [
    "BAND_COLORS",
    "DIVERGING",
    "LIVE_COLORS",
    "OKABE_ITO",
    "SEQUENTIAL",
    "base_layout",
    "empty_figure",
]

SEQUENTIAL = "Cividis"
#: Lift: blue below 1 (less than independence), orange above; white at 1.
DIVERGING = [[0.0, "#0072B2"], [0.5, "#F7F7F7"], [1.0, "#D55E00"]]
OKABE_ITO = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
#: Live state of a space; "unknown" is grey with a hatch on the map.
LIVE_COLORS = {"occupied": "#D55E00", "free": "#009E73", "unknown": "#BBBBBB"}
#: Target bands: under-used, optimal, over-used.
BAND_COLORS = {"under": "#56B4E9", "optimal": "#009E73", "over": "#D55E00"}
#: Suppressed (< k people) cells: grey, never a value.
SUPPRESSED_COLOR = "#DDDDDD"


def base_layout(**extra: Any) -> dict[str, Any]:
    """Compact layout defaults for every figure."""
    layout: dict[str, Any] = {
        "margin": {"l": 40, "r": 10, "t": 30, "b": 40},
        "template": "plotly_white",
        "font": {"size": 12},
    }
    layout.update(extra)
    return layout


def empty_figure(message: str) -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    fig.update_layout(
        **base_layout(),
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": message,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 14},
            }
        ],
    )
    return fig
