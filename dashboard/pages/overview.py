"""Overview: what is happening now, and how the chosen period compares with the
one before (time used, utilization, daily peaks, target bands, top spaces)."""

from __future__ import annotations

import datetime as dt
import logging

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from analytics import api
from dashboard.app import (
    QueryValue,
    current_filters,
    error_banner,
    initial_outputs,
    lang,
    query_search,
)
from dashboard.components import Col, empty, fmt_pct, graph, grid, kpi, page_title
from dashboard.data import AnalyticsUnavailable, current
from dashboard.filters import ViewFilters
from dashboard.i18n import t, tv
from dashboard.selection import live_states, select_spaces
from dashboard.theme import BAND_COLORS, LIVE_COLORS, base_layout, empty_figure, styled

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/",
    name="Overview",
    order=0,
    title=lambda **_: page_title("nav_overview"),
)

#: How often "Now" is refreshed [ms].
NOW_REFRESH_MS = 30_000

#: Period measures shown as KPI cards: (column, label key).
PERIOD_KPIS = (
    ("time_used_pct", "m_time_used_pct"),
    ("utilization_pct", "m_avg_utilization"),
    ("peak_utilization_pct", "m_peak_utilization"),
    ("avg_daily_peak_pct", "m_avg_daily_peak"),
)


def period_summary(
    now: pd.DataFrame, before: pd.DataFrame
) -> list[tuple[str, float | None, float | None]]:
    """(column, value, change in percentage points vs the previous period) for
    each of :data:`PERIOD_KPIS` present in the one-row frames ``now``/``before``."""
    out = []
    for col, _ in PERIOD_KPIS:
        if col not in now.columns or now.empty:
            continue
        value = float(now[col].iloc[0]) if pd.notna(now[col].iloc[0]) else None
        prev = None
        if col in before.columns and not before.empty and pd.notna(before[col].iloc[0]):
            prev = float(before[col].iloc[0])
        delta = None if value is None or prev is None else value - prev
        out.append((col, value, delta))
    return out


def headline_group(f: ViewFilters) -> tuple[str, str | None]:
    """The (level, id) the KPI cards describe: the most specific filter."""
    for level in ("zone", "floor", "department", "building"):
        value = getattr(f, level)
        if value:
            return level, value
    return "building", None


def pick_group(frame: pd.DataFrame, group: str | None) -> pd.DataFrame:
    """The row of ``group`` (or the first, e.g. the only building)."""
    if frame.empty:
        return frame
    if group is not None:
        return frame[frame["level_id"] == group].head(1)
    return frame.head(1)


def band_counts(
    spaces: pd.DataFrame, low: float, high: float, col: str = "utilization_pct"
) -> dict[str, int]:
    """Spaces per target band: analytics' ``band`` when present, else from
    ``col``: under (< low), optimal [low, high], over (> high) [%]."""
    if "band" in spaces.columns:
        counts = spaces["band"].value_counts()
        return {b: int(counts.get(b, 0)) for b in ("under", "optimal", "over")}
    v = pd.to_numeric(spaces[col], errors="coerce").dropna()
    return {
        "under": int((v < low).sum()),
        "optimal": int(((v >= low) & (v <= high)).sum()),
        "over": int((v > high).sum()),
    }


def live_by_floor(live: pd.DataFrame, spaces: pd.DataFrame) -> pd.DataFrame:
    """Free, measured (state known) and all desks and rooms per floor from the
    live state of each space (state: occupied, free, unknown; unknown is not
    counted as free)."""
    merged = spaces[["space_id", "kind", "floor_id"]].merge(
        live[["space_id", "state"]], on="space_id", how="left"
    )
    merged["state"] = merged["state"].fillna("unknown")
    merged["free_desk"] = (merged["kind"] == "desk") & (merged["state"] == "free")
    merged["free_room"] = (merged["kind"] != "desk") & (merged["state"] == "free")
    merged["desk"] = merged["kind"] == "desk"
    merged["room"] = merged["kind"] != "desk"
    # An assigned desk's live state is private: neither free nor measured.
    known = ~merged["state"].isin(["unknown", "private"])
    merged["measured_desk"] = merged["desk"] & known
    merged["measured_room"] = merged["room"] & known
    cols = ["free_desk", "desk", "measured_desk", "free_room", "room", "measured_room"]
    out = merged.groupby("floor_id", as_index=False)[cols].sum()
    return out.rename(columns={c: c + "s" for c in cols})


def no_live_message(devices: pd.DataFrame, tz: str, language: str) -> str:
    """What "Now" says when no space has recent data: since when (the last
    message of any device, in the site's time), never a count of zero."""
    if "last_seen" not in devices.columns:
        return t("now_never", language)
    last = pd.to_datetime(devices["last_seen"], utc=True).dropna()
    if last.empty:
        return t("now_never", language)
    when = last.max().tz_convert(tz).strftime("%Y-%m-%d %H:%M")
    return t("now_stale", language, when=when)


def now_cards(
    live: pd.DataFrame, per_floor: pd.DataFrame, language: str
) -> list[html.Div]:
    """People and free desks/rooms of the spaces with recent data; spaces
    without recent data are counted apart, never as free."""
    known = live[live["state"] != "unknown"]
    unknown = int(per_floor["desks"].sum() + per_floor["rooms"].sum()) - len(known)
    desks = int(per_floor["measured_desks"].sum())
    rooms = int(per_floor["measured_rooms"].sum())
    cards = [
        kpi(
            t("now_people", language),
            str(int(known["people"].clip(lower=0).sum())),
            id_="overview-now-people",
        ),
        kpi(
            t("now_free_desks", language),
            f"{int(per_floor['free_desks'].sum())} / {desks}",
            t("now_of_measured", language),
            id_="overview-now-free-desks",
        ),
        kpi(
            t("now_free_rooms", language),
            f"{int(per_floor['free_rooms'].sum())} / {rooms}",
            t("now_of_measured", language),
        ),
    ]
    if unknown > 0:
        cards.append(
            kpi(t("now_no_recent", language), str(unknown), id_="overview-now-unknown")
        )
    return cards


def bands_figure(
    counts: dict[str, int], language: str, low: float, high: float
) -> go.Figure:
    names = {
        "under": f"{t('under_used', language)} (< {low:.0f} %)",
        "optimal": f"{t('optimal', language)} ({low:.0f}-{high:.0f} %)",
        "over": f"{t('over_used', language)} (> {high:.0f} %)",
    }
    if sum(counts.values()) == 0:
        return empty_figure(t("empty_no_data", language))
    fig = go.Figure(
        go.Bar(
            x=[names[k] for k in counts],
            y=list(counts.values()),
            marker_color=[BAND_COLORS[k] for k in counts],
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
    )
    styled(fig, **base_layout(height=260, title=t("target_bands", language)))
    return fig


def layout(**query: QueryValue) -> html.Div:
    """The page with its figures, for the URL's filters (``query``)."""
    language = lang()
    search = query_search(query)
    now = initial_outputs(update_now, None, search)
    period = initial_outputs(update_period, search)
    failed = [error_banner(language)] if now is None or period is None else []
    cards, floors = now or (None, None)
    kpis, bands, under, over = period or (None, None, None, None)
    return html.Div(
        [
            *failed,
            html.H2(t("now", language)),
            html.Div(cards, id="overview-now", className="kpis"),
            graph("overview-now-floors", floors),
            dcc.Interval(id="overview-tick", interval=NOW_REFRESH_MS),
            html.H2(t("period_kpis", language)),
            html.Div(kpis, id="overview-kpis", className="kpis"),
            html.Div(
                [
                    html.Div(graph("overview-bands", bands)),
                    html.Div(
                        [
                            html.H3(t("top_under", language)),
                            html.Div(under, id="overview-top-under"),
                        ]
                    ),
                    html.Div(
                        [
                            html.H3(t("top_over", language)),
                            html.Div(over, id="overview-top-over"),
                        ]
                    ),
                ],
                className="row",
            ),
        ]
    )


@callback(
    Output("overview-now", "children"),
    Output("overview-now-floors", "figure"),
    Input("overview-tick", "n_intervals"),
    Input("app-url", "search"),
    prevent_initial_call=True,  # the layout has them
)
def update_now(
    _tick: int | None, search: str | None
) -> tuple[list[html.Div], go.Figure]:
    """People in the building and free desks/rooms per floor, refreshed every 30 s."""
    data = current()
    language = lang()
    f = current_filters(search)
    meta = data.metadata()
    spaces, _zones, floors = select_spaces(meta, f)
    try:
        live = live_states(data.live_state(dt.datetime.now(dt.UTC)))
    except AnalyticsUnavailable as exc:
        msg = t("empty_no_analytics", language, why=str(exc))
        return [empty(msg)], empty_figure(msg)
    live = live[live["space_id"].isin(spaces["space_id"])]
    if not (live["state"] != "unknown").any():
        msg = no_live_message(data.devices(), data.settings.timezone, language)
        return [empty(msg, id_="overview-now-none")], empty_figure(msg)
    per_floor = live_by_floor(live, spaces).merge(
        floors[["floor_id", "name", "level"]], on="floor_id"
    )
    per_floor = per_floor.sort_values("level")
    cards = now_cards(live, per_floor, language)
    fig = go.Figure(
        [
            go.Bar(
                name=t("now_free_desks", language),
                x=per_floor["name"],
                y=per_floor["free_desks"],
                marker_color=LIVE_COLORS["free"],
            ),
            go.Bar(
                name=t("now_free_rooms", language),
                x=per_floor["name"],
                y=per_floor["free_rooms"],
                marker_color="#56B4E9",
            ),
        ]
    )
    styled(fig, **base_layout(height=240, barmode="group", legend={"orientation": "h"}))
    return cards, fig


@callback(
    Output("overview-kpis", "children"),
    Output("overview-bands", "figure"),
    Output("overview-top-under", "children"),
    Output("overview-top-over", "children"),
    Input("app-url", "search"),
    prevent_initial_call=True,  # the layout has them
)
def update_period(
    search: str | None,
) -> tuple[list[html.Div], go.Figure, html.Div, html.Div]:
    """KPIs of the period vs the previous one, target bands and top spaces."""
    data = current()
    language = lang()
    f = current_filters(search)
    try:
        level, group = headline_group(f)
        whole = pick_group(data.read(api.read_utilization, f, level=level), group)
        before = pick_group(
            data.read(api.read_utilization, f.previous(), level=level), group
        )
        spaces = data.read(api.read_utilization, f, level="space")
    except AnalyticsUnavailable as exc:
        msg = t("empty_no_analytics", language, why=str(exc))
        return [empty(msg)], empty_figure(msg), empty(msg), empty(msg)
    if whole.empty:
        msg = t("empty_no_data", language)
        return (
            [empty(msg, id_="overview-empty")],
            empty_figure(msg),
            empty(msg),
            empty(msg),
        )
    cards = _period_cards(whole, before, language)
    low, high = (
        data.settings.target_low_pct,
        data.settings.target_high_pct,
    )
    col = "utilization_pct" if "utilization_pct" in spaces.columns else "time_used_pct"
    fig = bands_figure(band_counts(spaces, low, high, col), language, low, high)
    names = data.metadata()["spaces"][["space_id", "name"]]
    return (cards, fig, *_top_spaces(spaces, names, col, language))


def _period_cards(
    whole: pd.DataFrame, before: pd.DataFrame, language: str
) -> list[html.Div]:
    """A KPI card per :data:`PERIOD_KPIS` measure, with its change in
    percentage points vs the previous period."""
    cards = []
    for col, value, delta in period_summary(whole, before):
        label = dict(PERIOD_KPIS)[col]
        trend = None
        if delta is not None:
            points = f"{delta:+.1f}"
            points = points.replace(".", ",") if language == "nl" else points
            trend = f"{points} pp {t('m_trend', language)}"
        cards.append(
            kpi(
                t(label, language),
                fmt_pct(value, language=language),
                trend,
                id_=f"overview-kpi-{col}",
            )
        )
    return cards


def _top_spaces(
    spaces: pd.DataFrame, names: pd.DataFrame, col: str, language: str
) -> tuple[html.Div, html.Div]:
    """The ten least and the ten most used spaces by ``col`` (grids), or
    an empty state for both."""
    ranked = (
        spaces.merge(names, on="space_id", how="left")
        .dropna(subset=[col])
        .sort_values(col)
    )
    ranked = ranked.assign(kind_label=[tv("k", k, language) for k in ranked["kind"]])
    cols = [
        Col("name", "col_space"),
        Col("kind_label", "col_kind"),
        Col(
            col,
            "col_utilization" if col == "utilization_pct" else "col_time_used",
            "pct",
        ),
    ]
    if ranked.empty:
        nothing = empty(t("empty_no_data", language))
        return nothing, nothing
    under = grid("overview-under-table", ranked.head(10), cols, language)
    over = grid("overview-over-table", ranked.iloc[::-1].head(10), cols, language)
    return under, over
