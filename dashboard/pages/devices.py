"""Devices: online/offline, last seen, battery, data gaps, unassigned devices
and rejected messages by reason."""

from __future__ import annotations

import datetime as dt
import logging

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, html

from dashboard.app import (
    QueryValue,
    current_filters,
    error_banner,
    initial_outputs,
    lang,
    query_search,
)
from dashboard.components import Col, empty, graph, grid, kpi, page_title
from dashboard.data import current
from dashboard.filters import ViewFilters
from dashboard.i18n import rejection_reason, t, tv
from dashboard.theme import OKABE_ITO, base_layout, empty_figure, styled

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/devices",
    name="Devices",
    order=5,
    title=lambda **_: page_title("nav_devices"),
)

LOW_BATTERY_PCT = 20.0

OFFLINE_COLUMNS = [
    Col("device_id", "col_device"),
    Col("kind_label", "col_kind"),
    Col("space_id", "col_space"),
    Col("zone_id", "col_zone"),
    Col("status_label", "col_status"),
    Col("last_seen_local", "col_last_seen"),
    Col("silent_s", "col_silent", "dur"),
    Col("battery_pct", "col_battery", "int"),
]
UNASSIGNED_COLUMNS = [
    Col("device_id", "col_device"),
    Col("kind_label", "col_kind"),
    Col("family", "col_family"),
    Col("kinds", "dev_kinds"),
    Col("last_seen_local", "col_last_seen"),
    Col("battery_pct", "col_battery", "int"),
    Col("last_payload", "dev_last_payload"),
]
#: Longest last payload shown [characters].
PAYLOAD_CHARS = 160


def unassigned_devices(
    devices: pd.DataFrame, observed: pd.DataFrame, withheld: str
) -> pd.DataFrame:
    """Devices not placed in the building: the unassigned rows of ``devices``
    and every observed device the building does not list, with family, kinds
    and last payload (BLE payloads were never stored: ``withheld``)."""
    un = devices.loc[
        ~devices["assigned"].astype(bool),
        ["device_id", "kind", "family", "last_seen", "battery_pct"],
    ]
    obs = observed.copy()
    obs["kinds"] = obs["kinds"].map(
        lambda k: ", ".join(k) if isinstance(k, list | tuple) else ""
    )
    payload = obs["last_payload"].astype("string")
    obs["last_payload"] = payload.str.slice(0, PAYLOAD_CHARS).fillna(withheld)
    placed = set(devices.loc[devices["assigned"].astype(bool), "device_id"])
    obs = obs[~obs["device_id"].isin(placed)]
    out = un.merge(
        obs[["device_id", "family", "kinds", "last_payload", "last_heard"]],
        on="device_id",
        how="outer",
        suffixes=("", "_heard"),
    )
    out["family"] = out["family"].combine_first(out.pop("family_heard"))
    heard = pd.to_datetime(out.pop("last_heard"), utc=True)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True).combine_first(heard)
    out["kinds"] = out["kinds"].fillna("")
    out["last_payload"] = out["last_payload"].fillna("")
    return out.sort_values("device_id").reset_index(drop=True)


def unassigned_view(un: pd.DataFrame, tz: str, language: str) -> pd.DataFrame:
    """The unassigned devices as the table shows them: kind in words (empty
    for a device only heard), last seen in the site's local time."""
    last = pd.to_datetime(un["last_seen"], utc=True).dt.tz_convert(tz)
    return un.assign(
        kind_label=[
            tv("k", k, language) if isinstance(k, str) else "" for k in un["kind"]
        ],
        last_seen_local=last.dt.strftime("%Y-%m-%d %H:%M").where(last.notna(), None),
    )


def device_view(devices: pd.DataFrame, tz: str, language: str) -> pd.DataFrame:
    """What the device tables show: kind and status in words, last seen in the
    site's local time, silence in seconds (shown as hours and minutes)."""
    last = pd.to_datetime(devices["last_seen"], utc=True).dt.tz_convert(tz)
    return devices.assign(
        kind_label=[tv("k", k, language) for k in devices["kind"]],
        status_label=[
            t("s_never", language) if s == "never" else t(str(s), language)
            for s in devices["status"]
        ],
        last_seen_local=last.dt.strftime("%Y-%m-%d %H:%M").where(last.notna(), None),
        silent_s=devices["silent_h"] * 3600.0,
    )


def device_status(
    devices: pd.DataFrame, now: dt.datetime, timeout_min: float
) -> pd.DataFrame:
    """Add ``silent_h`` (hours since last seen) and ``status``: online when the
    device says so and was heard within ``timeout_min`` minutes, else offline;
    ``never`` when it was never heard."""
    out = devices.copy()
    last = pd.to_datetime(out["last_seen"], utc=True)
    silent_h = (pd.Timestamp(now) - last).dt.total_seconds() / 3600.0
    out["silent_h"] = silent_h.round(2)
    fresh = silent_h <= timeout_min / 60.0
    online = out["online"].astype("boolean").fillna(False).astype(bool) & fresh
    out["status"] = "offline"
    out.loc[online, "status"] = "online"
    out.loc[last.isna(), "status"] = "never"
    return out


def rejected_window(
    f: ViewFilters, now: dt.datetime, tz: str
) -> tuple[dt.datetime, dt.datetime]:
    """[lo, hi) in UTC of the rejected messages to count for the view.

    The ingester stamps a rejection with its arrival time (a malformed message
    has no trustworthy device time), so the rejections of data backfilled today
    carry today's date. A period that reaches yesterday (the default, which
    ends with the last complete day) is therefore counted up to ``now``, so the
    page agrees with what the ingester reported; an older period keeps its own
    end."""
    from zoneinfo import ZoneInfo

    lo, hi = f.utc_range(tz)
    today = now.astimezone(ZoneInfo(tz)).date()
    if f.end is not None and f.end >= today - dt.timedelta(days=1):
        hi = max(hi, now + dt.timedelta(seconds=1))
    return lo, hi


def rejected_figure(rejected: pd.DataFrame, language: str) -> go.Figure:
    """Bar chart of rejected messages by reason: the reason in words with its
    code (``Unknown device (unknown_device)``; customdata: the code)."""
    if rejected.empty:
        return empty_figure(t("empty_no_rejected", language))
    fig = go.Figure(
        go.Bar(
            x=rejected["messages"],
            y=[rejection_reason(r, language) for r in rejected["reason"]],
            customdata=rejected["reason"],
            orientation="h",
            marker_color=OKABE_ITO[5],
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    styled(
        fig,
        **base_layout(height=80 + 28 * len(rejected)),
        xaxis_title=t("dev_count", language),
        yaxis={"autorange": "reversed"},
    )
    return fig


def layout(**query: QueryValue) -> html.Div:
    """The page with its figure and tables, for the URL's filters (``query``)."""
    language = lang()
    out = initial_outputs(update_devices, query_search(query))
    kpis, rejected, offline, unassigned = out or (None, None, None, None)
    return html.Div(
        [
            *([] if out else [error_banner(language)]),
            html.H2(t("nav_devices", language)),
            html.Div(kpis, id="devices-kpis", className="kpis"),
            html.H3(t("dev_rejected", language)),
            graph("devices-rejected", rejected),
            html.H3(t("dev_offline", language)),
            html.Div(offline, id="devices-offline"),
            html.H3(t("dev_unassigned", language)),
            html.Div(unassigned, id="devices-unassigned"),
        ]
    )


@callback(
    Output("devices-kpis", "children"),
    Output("devices-rejected", "figure"),
    Output("devices-offline", "children"),
    Output("devices-unassigned", "children"),
    Input("app-url", "search"),
    prevent_initial_call=True,  # the layout has them
)
def update_devices(
    search: str | None,
) -> tuple[list[html.Div], go.Figure, html.Div, html.Div]:
    data = current()
    language = lang()
    f = current_filters(search)
    now = dt.datetime.now(dt.UTC)
    devices = device_status(data.devices(), now, data.settings.heartbeat_timeout_min)
    lo, hi = rejected_window(f, now, data.settings.timezone)
    rejected = data.rejected_by_reason(lo, hi)
    n_rejected = int(rejected["messages"].sum()) if not rejected.empty else 0
    if devices.empty:
        msg = t("empty_no_devices", language)
        return [empty(msg)], rejected_figure(rejected, language), empty(msg), empty(msg)
    low = devices["battery_pct"].astype(float) < LOW_BATTERY_PCT
    counts = devices["status"].value_counts()
    kpis = [
        kpi(t("dev_total", language), str(len(devices))),
        kpi(t("dev_online", language), str(int(counts.get("online", 0)))),
        kpi(
            t("dev_offline", language),
            str(int(counts.get("offline", 0)) + int(counts.get("never", 0))),
        ),
        kpi(t("dev_low_battery", language), str(int(low.sum()))),
        kpi(
            t("dev_rejected_total", language),
            str(n_rejected),
            t("dev_since", language, date=f.start.isoformat() if f.start else "–"),
            id_="devices-kpi-rejected",
        ),
        kpi(
            t("dev_unassigned", language),
            str(int((~devices["assigned"].astype(bool)).sum())),
        ),
    ]
    view = device_view(devices, data.settings.timezone, language)
    offline = view[view["status"] != "online"].sort_values("silent_s", ascending=False)
    offline_view = (
        grid("devices-offline-table", offline, OFFLINE_COLUMNS, language)
        if not offline.empty
        else empty("–")
    )
    unassigned = unassigned_view(
        unassigned_devices(
            devices, data.device_observations(), t("dev_withheld", language)
        ),
        data.settings.timezone,
        language,
    )
    un_view = (
        grid("devices-unassigned-table", unassigned, UNASSIGNED_COLUMNS, language)
        if not unassigned.empty
        else empty("–")
    )
    return kpis, rejected_figure(rejected, language), offline_view, un_view
