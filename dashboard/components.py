"""Small layout pieces shared by the pages: KPI cards, tables, empty states."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from dash import dcc, html

logger = logging.getLogger(__name__)

__all__ = ["empty", "fmt_pct", "graph", "kpi", "table"]


def fmt_pct(value: float | None, digits: int = 0) -> str:
    """``42.3`` -> ``"42 %"``; missing -> ``"–"``."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:.{digits}f} %"


def kpi(
    label: str, value: str, delta: str | None = None, *, id_: str | None = None
) -> html.Div:
    children: list[Any] = [
        html.Div(value, className="kpi-value"),
        html.Div(label, className="kpi-label"),
    ]
    if delta:
        children.append(html.Div(delta, className="kpi-delta"))
    kwargs: dict[str, Any] = {"id": id_} if id_ else {}
    return html.Div(children, className="kpi", **kwargs)


def graph(id_: str, figure: Any = None, **config: Any) -> dcc.Graph:
    """A graph (no Plotly logo), drawn with ``figure`` when given."""
    kwargs: dict[str, Any] = {} if figure is None else {"figure": figure}
    return dcc.Graph(
        id=id_,
        config={"displaylogo": False, **config},  # type: ignore[arg-type]
        **kwargs,
    )


def empty(message: str, *, id_: str | None = None) -> html.Div:
    """An empty state that says why."""
    kwargs: dict[str, Any] = {"id": id_} if id_ else {}
    return html.Div(message, className="empty", **kwargs)


def table(
    frame: pd.DataFrame, headers: dict[str, str] | None = None, *, max_rows: int = 200
) -> html.Table:
    """A plain HTML table of ``frame`` (first ``max_rows`` rows)."""
    headers = headers or {}
    cols = list(frame.columns)
    head = html.Thead(html.Tr([html.Th(headers.get(c, c)) for c in cols]))
    rows = []
    for rec in frame.head(max_rows).itertuples(index=False):
        rows.append(html.Tr([html.Td(_cell(v)) for v in rec]))
    return html.Table([head, html.Tbody(rows)], className="simple")


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)
