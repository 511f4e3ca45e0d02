"""The Collaboration page's department network (kept apart from the page
so it is testable without a running app)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.i18n import t
from dashboard.theme import base_layout, styled

__all__ = ["EDGE_WIDTH_STEP", "network_edges", "network_figure"]


#: Edge widths of the network are rounded to this step (pixels), and edges
#: of one width share a trace: a few traces instead of one per pair (each
#: Plotly trace costs validation time on a large department list).
EDGE_WIDTH_STEP = 0.5


def network_edges(lift: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Pairs i < j with lift > 1: i, j, lift, width (1 + 3·(lift − 1),
    at most 10 px, rounded to :data:`EDGE_WIDTH_STEP`) and the hover label."""
    i, j = np.triu_indices(len(names), k=1)
    v = lift[i, j] if len(i) else np.array([], dtype=float)
    keep = np.isfinite(v) & (v > 1.0)
    i, j, v = i[keep], j[keep], v[keep]
    width = np.minimum(1 + 3 * (v - 1), 10)
    width = np.round(width / EDGE_WIDTH_STEP) * EDGE_WIDTH_STEP
    label = [
        f"{names[a]} × {names[b]}: {x:.2f}" for a, b, x in zip(i, j, v, strict=True)
    ]
    return pd.DataFrame({"i": i, "j": j, "lift": v, "width": width, "label": label})


def network_figure(
    lift: np.ndarray, names: list[str], colors: list[str], language: str
) -> go.Figure:
    """Departments on a circle; an edge where lift > 1, wider for higher lift
    (edges of one width in one trace, separated by gaps)."""
    n = len(names)
    angles = np.linspace(0, 2 * math.pi, n, endpoint=False) if n else np.array([])
    xs, ys = np.cos(angles), np.sin(angles)
    traces: list[go.Scatter] = []
    edges = network_edges(lift, names)
    for width in np.unique(edges["width"].to_numpy(dtype=float)):
        part = edges[edges["width"] == width]
        a, b = part["i"].to_numpy(), part["j"].to_numpy()
        gap = np.full(len(part), np.nan)
        traces.append(
            go.Scatter(
                x=np.column_stack([xs[a], xs[b], gap]).ravel(),
                y=np.column_stack([ys[a], ys[b], gap]).ravel(),
                mode="lines",
                hoverinfo="text",
                text=np.column_stack(
                    [part["label"], part["label"], np.full(len(part), "")]
                ).ravel(),
                showlegend=False,
                line={"width": float(width), "color": "#888"},
            )
        )
    traces.append(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            text=names,
            textposition="top center",
            marker={"size": 18, "color": colors, "line": {"color": "#333", "width": 1}},
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig = go.Figure(traces)
    styled(
        fig,
        **base_layout(height=460, title=t("col_network", language)),
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
    )
    return fig
