"""Colour-blind-safe colours and figure helpers shared by the pages.

Sequential measures use Cividis (readable with every common colour-vision
deficiency and in greyscale); categories use the Okabe-Ito palette, as the
departments in the building file do.
"""

from __future__ import annotations

import logging

import plotly.graph_objects as go
import plotly.io as pio

logger = logging.getLogger(__name__)

__all__ = [
    "BAND_COLORS",
    "DIVERGING",
    "LIVE_COLORS",
    "OKABE_ITO",
    "SEQUENTIAL",
    "base_layout",
    "empty_figure",
    "styled",
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
#: Live state of a space (Okabe-Ito vermillion and bluish green, told apart
#: with every common colour-vision deficiency; unknown light and offline dark
#: grey, told apart by lightness).
LIVE_COLORS = {
    "occupied": "#D55E00",
    "free": "#009E73",
    "unknown": "#D9D9D9",
    "offline": "#4D4D4D",
    # a desk assigned to one person: never shown alone (docs/privacy.md)
    "private": "#FFFFFF",
}
#: Target bands: under-used, optimal, over-used.
BAND_COLORS = {"under": "#56B4E9", "optimal": "#009E73", "over": "#D55E00"}
#: Suppressed (< k people) cells: grey, never a value.
SUPPRESSED_COLOR = "#DDDDDD"


def base_layout(**extra: object) -> dict[str, object]:
    """Compact layout defaults for every figure."""
    layout: dict[str, object] = {
        "margin": {"l": 40, "r": 10, "t": 30, "b": 40},
        "template": "plotly_white",
        "font": {"size": 12},
    }
    layout.update(extra)
    return layout


def styled(fig: go.Figure, **layout: object) -> go.Figure:
    """``fig.update_layout(**layout)``; a template given by name is assigned
    as plotly assigns its default template, without validating the template
    again (the same figure JSON, a figure three times faster to build)."""
    name = layout.pop("template", None)
    if name is not None:
        fig.layout._validate = False
        try:
            fig.layout.template = pio.templates[name]
        finally:
            fig.layout._validate = True
    fig.update_layout(**layout)
    return fig


def empty_figure(message: str) -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    styled(
        fig,
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
