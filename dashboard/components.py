"""Small layout pieces shared by the pages: KPI cards, tables, empty states.

Tables are AG Grid (dash-ag-grid): sortable, paged, with a CSV download of
what is shown. Cells keep their raw numbers (so sorting is numeric) and a
formatter per column kind shows them: integers as integers, percentages with
one decimal, durations in hours and minutes, in the app's language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import MATCH, Input, Output, dcc, html

from dashboard.data import current
from dashboard.i18n import t

if TYPE_CHECKING:
    import plotly.graph_objects as go

logger = logging.getLogger(__name__)

__all__ = [
    "GRID_PAGE_SIZE",
    "Col",
    "empty",
    "fmt_duration",
    "fmt_pct",
    "graph",
    "grid",
    "kpi",
    "page_title",
    "register_grid_callbacks",
    "table",
]

#: Rows per page of a table.
GRID_PAGE_SIZE = 15


def _formatter(kind: str, language: str) -> dict[str, str] | None:
    """The cell formatter of a column kind (``assets/dashAgGridFunctions.js``)."""
    call = {
        "int": f"occNumber(params.value, '{language}', 0)",
        "num1": f"occNumber(params.value, '{language}', 1)",
        "pct": f"occPct(params.value, '{language}')",
        "dur": f"occDuration(params.value, '{language}')",
    }.get(kind)
    return None if call is None else {"function": call}


@dataclass(frozen=True)
class Col:
    """A table column: ``field`` of the frame, its header label key (see
    :mod:`dashboard.i18n`) and its kind: text, int, pct, num1 or dur (seconds)."""

    field: str
    label: str
    kind: str = "text"


def fmt_pct(value: float | None, digits: int = 1, language: str = "en") -> str:
    """``42.34`` -> ``"42.3 %"`` (Dutch ``"42,3 %"``); missing -> ``"–"``."""
    if value is None or pd.isna(value):
        return "–"
    text = f"{value:.{digits}f} %"
    return text.replace(".", ",") if language == "nl" else text


def fmt_duration(seconds: float | None, language: str = "en") -> str:
    """``3900`` -> ``"1 h 05 min"`` (Dutch ``"1 u 05 min"``); missing -> ``"–"``."""
    if seconds is None or pd.isna(seconds):
        return "–"
    minutes = round(float(seconds) / 60.0)
    hour = "u" if language == "nl" else "h"
    return f"{minutes // 60} {hour} {minutes % 60:02d} min"


def page_title(key: str) -> str:
    """The browser-tab title of a page: its name, then the app's (for Dash
    pages' ``title``, called per request in the app's language)."""
    try:
        language = str(current().settings.language)
    except RuntimeError:  # outside a request (Dash validating the registry)
        language = "en"
    return f"{t(key, language)} · {t('app_title', language)}"


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


def graph(id_: str, figure: go.Figure | None = None, **config: object) -> dcc.Graph:
    """A graph (no Plotly logo), drawn with ``figure`` when given."""
    kwargs: dict[str, go.Figure] = {} if figure is None else {"figure": figure}
    return dcc.Graph(
        id=id_,
        config={"displaylogo": False, **config},  # type: ignore[arg-type]
        **kwargs,
    )


def empty(message: str, *, id_: str | None = None) -> html.Div:
    """An empty state that says why."""
    kwargs: dict[str, Any] = {"id": id_} if id_ else {}
    return html.Div(message, className="empty", **kwargs)


_GRID_TEXT = {
    "nl": {
        "page": "Pagina",
        "of": "van",
        "to": "tot",
        "more": "meer",
        "firstPage": "Eerste pagina",
        "lastPage": "Laatste pagina",
        "nextPage": "Volgende pagina",
        "previousPage": "Vorige pagina",
        "pageSizeSelectorLabel": "Rijen per pagina:",
        "noRowsToShow": "Geen rijen",
        "loadingOoo": "Laden...",
        "ariaPageSizeSelectorLabel": "Rijen per pagina",
    }
}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (missing values as null)."""
    out = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in out.to_dict("records")]


def grid(
    id_: str,
    frame: pd.DataFrame,
    columns: list[Col],
    language: str,
    *,
    page_size: int = GRID_PAGE_SIZE,
) -> html.Div:
    """An AG Grid of ``frame``'s ``columns`` with human headers (label and
    unit) in ``language``, sortable and paged, and a button that downloads the
    rows as shown (sorted, formatted) as CSV."""
    defs: list[dict[str, Any]] = []
    for i, col in enumerate(columns):
        d: dict[str, Any] = {"field": col.field, "headerName": t(col.label, language)}
        fmt = _formatter(col.kind, language)
        if fmt is not None:
            d["valueFormatter"] = fmt
            d["type"] = "rightAligned"
        if i == 0:
            d["pinned"] = "left"
        d["minWidth"] = _min_width(d["headerName"], frame[col.field], col.kind)
        defs.append(d)
    rows = _records(frame[[c.field for c in columns]])
    options: dict[str, Any] = {
        "pagination": len(rows) > page_size,
        "paginationPageSize": page_size,
        "paginationPageSizeSelector": False,
        "domLayout": "autoHeight",
        "ensureDomOrder": True,
        "suppressColumnVirtualisation": True,
    }
    if language in _GRID_TEXT:
        options["localeText"] = _GRID_TEXT[language]
    table_ = dag.AgGrid(
        id={"type": "grid", "index": id_},
        rowData=rows,
        columnDefs=defs,
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "flex": 1,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions=options,
        csvExportParams={"fileName": f"{id_}.csv"},
        className="ag-theme-quartz",
        style={"width": "100%"},
    )
    button = html.Button(
        t("csv_download", language),
        id={"type": "grid-csv", "index": id_},
        className="csv-button",
        n_clicks=0,
    )
    return html.Div([table_, button], className="grid", id=id_)


#: Pixels per character of the grid's font (quartz theme, 14 px; DejaVu
#: Sans, a wide one), and what a header or cell adds around its text
#: (padding, sort and menu icons).
_CHAR_PX, _HEADER_PAD_PX, _CELL_PAD_PX = 9, 46, 36
#: A text column grows to its longest value up to this many characters.
_TEXT_CHARS_MAX = 28


def _value_chars(values: pd.Series, kind: str) -> int:
    """Characters of the widest formatted value of a column (estimated from
    the raw values, the formatters run in the browser)."""
    if values.empty:
        return 0
    if kind == "text":
        return min(int(values.astype(str).str.len().max()), _TEXT_CHARS_MAX)
    if kind == "pct":
        return 7  # "100.0 %"
    if kind == "dur":
        return 12  # "123 h 05 min"
    numbers = pd.to_numeric(values, errors="coerce").abs()
    top = float(numbers.max()) if numbers.notna().any() else 0.0
    digits = len(f"{top:.0f}")
    return digits + (digits - 1) // 3 + (2 if kind == "num1" else 0) + 1


def _min_width(header: str, values: pd.Series, kind: str) -> int:
    """A column's minimum width in pixels: no header word broken in two and
    no value cut off (wider tables scroll sideways instead)."""
    word = max((len(w) for w in header.split()), default=0)
    return max(
        90,
        word * _CHAR_PX + _HEADER_PAD_PX,
        _value_chars(values, kind) * _CHAR_PX + _CELL_PAD_PX,
    )


def register_grid_callbacks(app: dash.Dash) -> None:
    """The CSV button of every :func:`grid` (client side: no round trip)."""
    app.clientside_callback(  # type: ignore[no-untyped-call]
        "function(n) { return n > 0 ? true : window.dash_clientside.no_update; }",
        Output({"type": "grid", "index": MATCH}, "exportDataAsCsv"),
        Input({"type": "grid-csv", "index": MATCH}, "n_clicks"),
        prevent_initial_call=True,
    )


def table(
    frame: pd.DataFrame, headers: dict[str, str] | None = None, *, max_rows: int = 200
) -> html.Table:
    """A plain HTML table of ``frame`` (first ``max_rows`` rows); small
    read-only lists only, data tables are :func:`grid`."""
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
