"""Labels (EN/NL) and figures of the Plan page (dashboard/pages/plan.py)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.filters import ViewFilters
from dashboard.theme import OKABE_ITO, base_layout, empty_figure, styled
from occupancy.planned_changes import PlannedChange

logger = logging.getLogger(__name__)

__all__ = [
    "DAYS",
    "HEADERS",
    "L",
    "cross_figure",
    "forecast_figure",
    "headers",
    "iv_figure",
    "pick_group",
    "planned_table",
    "t",
]

DAYS = [("mon", "ma"), ("tue", "di"), ("wed", "wo"), ("thu", "do"), ("fri", "vr")]

L: dict[str, tuple[str, str]] = {
    "title": ("Plan", "Plannen"),
    "fc": ("Forecast", "Prognose"),
    "fc_note": (
        "Hourly people for the next weeks from the last {weeks} weeks up to the end date; "
        "bands: 80 % and 95 % prediction intervals. Model per group chosen by a "
        "rolling-origin backtest (table).",
        "Aantal personen per uur voor de komende weken, uit de laatste {weeks} weken tot de "
        "einddatum; banden: 80 %- en 95 %-voorspellingsintervallen. Model per groep gekozen "
        "met een rolling-origin-backtest (tabel).",
    ),
    "planned": ("Planned changes", "Geplande veranderingen"),
    "fc_scores": (
        "Model scores (rolling-origin backtest)",
        "Modelscores (rolling-origin-backtest)",
    ),
    "planned_none": (
        "No planned changes after the history (building file site.planned_changes, "
        "setting forecast_planned_changes).",
        "Geen geplande veranderingen na de historie (gebouwbestand "
        "site.planned_changes, instelling forecast_planned_changes).",
    ),
    "planned_at": ("planned × {f}", "gepland × {f}"),
    "whole_site": ("whole site", "hele locatie"),
    "floors": ("floors", "verdiepingen"),
    "departments": ("departments", "afdelingen"),
    "level": ("Level", "Niveau"),
    "horizon": ("Weeks ahead", "Weken vooruit"),
    "people": ("people", "personen"),
    "measured": ("measured", "gemeten"),
    "forecast": ("forecast", "prognose"),
    "pi80": ("80 % interval", "80 %-interval"),
    "pi95": ("95 % interval", "95 %-interval"),
    "wi": ("What-if", "Wat-als"),
    "wi_note": (
        "Scenarios against the measured desk demand of the selected period: does the "
        "p90 day fit, overflow, desks and rooms freed, days that break it.",
        "Scenario's tegen de gemeten bureauvraag van de gekozen periode: past de p90-dag, "
        "overloop, vrijgekomen bureaus en ruimtes, dagen die niet passen.",
    ),
    "close": ("Close floor or zone", "Verdieping of zone sluiten"),
    "on": ("on", "op"),
    "sharing": ("Desk-sharing ratio", "Deelfactor bureaus"),
    "move": ("Move department", "Afdeling verhuizen"),
    "to": ("to", "naar"),
    "anchor": ("Anchor days", "Vaste dagen"),
    "st": ("Stacking plan", "Stapelplan"),
    "st_note": (
        "Which neighbourhood each department gets so its p90 demand fits and the pairs "
        "with the lowest co-location lift share a floor or a neutral zone, against "
        "people moved (OR-Tools CP-SAT, 10 s).",
        "Welke werkplek-zone elke afdeling krijgt zodat de p90-vraag past en de paren met "
        "de laagste co-locatie-lift een verdieping of neutrale zone delen, tegen het "
        "aantal verhuisde personen (OR-Tools CP-SAT, 10 s).",
    ),
    "st_result": (
        "Solver: {status}; objective {obj:g} (today's plan: {today:g}).",
        "Solver: {status}; doelfunctie {obj:g} (huidige indeling: {today:g}).",
    ),
    "iv": ("Did it work?", "Heeft het gewerkt?"),
    "iv_note": (
        "Effect of a change on the touched zones: before/after with a 95 % bootstrap "
        "interval over weeks, and difference-in-differences against untouched zones.",
        "Effect van een verandering op de betrokken zones: voor/na met een 95 %-"
        "bootstrapinterval over weken, en verschil-in-verschillen tegen onaangeroerde zones.",
    ),
    "change": ("Change date", "Datum verandering"),
    "zones": ("Touched zones", "Betrokken zones"),
    "treated": ("touched", "betrokken"),
    "control": ("untouched", "onaangeroerd"),
    "cross": (
        "cross-department pairs per occupied bucket",
        "afdelingsparen per bezet kwartier",
    ),
    "sc": ("Neutral-ground scorecard", "Scorekaart neutrale plekken"),
    "sc_note": (
        "Shared zones ranked by the share of department pairs that meet there, then lift; "
        "zones with fewer than k people are hidden.",
        "Gedeelde zones gerangschikt op het aandeel afdelingsparen dat elkaar er treft, dan "
        "lift; zones met minder dan k personen zijn verborgen.",
    ),
    "no_data": (
        "No data for this view: run occupancy analyze.",
        "Geen gegevens voor deze weergave: draai occupancy analyze.",
    ),
}

#: Table column → (English, Dutch) header.
HEADERS: dict[str, tuple[str, str]] = {
    "model": ("model", "model"),
    "date": ("from", "vanaf"),
    "factor": ("factor", "factor"),
    "scope": ("applies to", "geldt voor"),
    "note": ("note", "toelichting"),
    "planned_factor": ("factor of this group", "factor van deze groep"),
    "points": ("points", "punten"),
    "mae": ("MAE [people]", "MAE [personen]"),
    "mase": ("MASE", "MASE"),
    "coverage80": ("80 % coverage", "dekking 80 %"),
    "coverage95": ("95 % coverage", "dekking 95 %"),
    "chosen": ("chosen", "gekozen"),
    "scenario": ("scenario", "scenario"),
    "space": ("space", "ruimte"),
    "desks": ("desks", "bureaus"),
    "p90_day_people": ("p90 day [people]", "p90-dag [personen]"),
    "max_day_people": ("max day [people]", "max. dag [personen]"),
    "fits_p90": ("p90 day fits", "p90-dag past"),
    "overflow_hours": ("hours over", "uren te vol"),
    "overflow_max_people": ("max over [people]", "max. te veel [personen]"),
    "desks_freed": ("desks freed", "bureaus vrij"),
    "rooms_freed": ("rooms freed", "ruimtes vrij"),
    "days_over": ("days over", "dagen te vol"),
    "department_id": ("department", "afdeling"),
    "demand": ("p90 demand", "p90-vraag"),
    "current": ("today", "nu"),
    "proposed": ("proposed", "voorstel"),
    "floor_id": ("floor", "verdieping"),
    "moved": ("moves", "verhuist"),
    "department_a": ("department A", "afdeling A"),
    "department_b": ("department B", "afdeling B"),
    "weight": ("weight", "gewicht"),
    "same_floor": ("same floor", "zelfde verdieping"),
    "shared_neutral": ("shared neutral zone", "gedeelde neutrale zone"),
    "same_floor_today": ("same floor today", "nu zelfde verdieping"),
    "shared_neutral_today": ("neutral zone today", "nu neutrale zone"),
    "outcome": ("outcome", "uitkomst"),
    "weeks_before": ("weeks before", "weken voor"),
    "weeks_after": ("weeks after", "weken na"),
    "before": ("before", "voor"),
    "after": ("after", "na"),
    "change": ("change", "verandering"),
    "change_lo95": ("95 % low", "95 % laag"),
    "change_hi95": ("95 % high", "95 % hoog"),
    "control_before": ("untouched before", "onaangeroerd voor"),
    "control_after": ("untouched after", "onaangeroerd na"),
    "did": ("DiD", "ViV"),
    "did_lo95": ("DiD 95 % low", "ViV 95 % laag"),
    "did_hi95": ("DiD 95 % high", "ViV 95 % hoog"),
    "zone_id": ("zone", "zone"),
    "people": ("people", "personen"),
    "departments_seen": ("departments", "afdelingen"),
    "lift": ("lift", "lift"),
    "simpson": ("diversity (Simpson)", "diversiteit (Simpson)"),
    "pairs_met": ("pairs meeting", "paren die elkaar treffen"),
    "pairs_met_pct": ("pairs meeting %", "paren %"),
    "trend_per_week": ("trend per week", "trend per week"),
    "suppressed": ("suppressed (< k)", "verborgen (< k)"),
    "rank": ("rank", "rang"),
}


def headers(language: str) -> dict[str, str]:
    """Column → header in ``language``."""
    return {c: (nl if language == "nl" else en) for c, (en, nl) in HEADERS.items()}


def t(key: str, language: str, **fmt: object) -> str:
    """The label ``key`` in ``language`` (en | nl)."""
    en, nl = L[key]
    return (nl if language == "nl" else en).format(**fmt)


def cross_figure(weekly: pd.DataFrame, language: str) -> go.Figure:
    """Weekly cross-department pairs per occupied bucket, one line per zone."""
    traces = [
        go.Scatter(
            x=list(g["week"]), y=g["cross_pairs"], name=str(z), mode="lines+markers"
        )
        for z, g in weekly.groupby("zone_id")
    ]
    fig = go.Figure(traces)
    styled(
        fig,
        **base_layout(height=300, legend={"orientation": "h", "y": -0.25}),
        yaxis_title=t("cross", language),
    )
    return fig


def forecast_figure(fc: pd.DataFrame, past: pd.DataFrame, language: str) -> go.Figure:
    """One group's measured hours and forecast with 80/95 % bands."""
    if fc.empty:
        return empty_figure(t("no_data", language))
    x = fc["ts"]
    band = [
        ("95", "rgba(0,114,178,0.15)", "pi95"),
        ("80", "rgba(0,114,178,0.30)", "pi80"),
    ]
    traces: list[Any] = []
    for q, color, key in band:
        traces.append(
            go.Scatter(
                x=x,
                y=fc[f"people_hi{q}"],
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        traces.append(
            go.Scatter(
                x=x,
                y=fc[f"people_lo{q}"],
                fill="tonexty",
                fillcolor=color,
                line={"width": 0},
                name=t(key, language),
            )
        )
    if not past.empty:
        traces.append(
            go.Scatter(
                x=past["ts"],
                y=past["people"],
                name=t("measured", language),
                line={"color": "#555555", "width": 1},
            )
        )
    traces.append(
        go.Scatter(
            x=x,
            y=fc["people"],
            name=t("forecast", language),
            line={"color": OKABE_ITO[4], "width": 1.5},
        )
    )
    fig = go.Figure(traces)
    _mark_planned(fig, fc, language)
    styled(
        fig,
        **base_layout(height=340, legend={"orientation": "h", "y": -0.2}),
        yaxis_title=t("people", language),
    )
    return fig


def _fmt(f: float, language: str) -> str:
    text = f"{f:.3g}"
    return text.replace(".", ",") if language == "nl" else text


def _mark_planned(fig: go.Figure, fc: pd.DataFrame, language: str) -> None:
    """A dashed line and its factor where the group's planned factor changes
    (the open hours; closed hours carry 1)."""
    if "planned_factor" not in fc:
        return
    open_ = fc[~fc["closed"].astype(bool)]
    f = open_["planned_factor"].to_numpy(float)
    prev = pd.Series(f).shift(1, fill_value=1.0).to_numpy()
    for ts, factor in zip(open_["ts"][f != prev], f[f != prev], strict=True):
        fig.add_vline(
            x=pd.Timestamp(ts).timestamp() * 1000,
            line_dash="dash",
            line_color=OKABE_ITO[5],
            annotation_text=t("planned_at", language, f=_fmt(factor, language)),
        )


def planned_table(
    changes: Sequence[PlannedChange], fc: pd.DataFrame, language: str
) -> pd.DataFrame:
    """The planned changes the forecast applies (dated after its history):
    date, factor, what it applies to, note, and the factor it gives the shown
    group from that date (on the horizon's first open hour then; – beyond)."""
    first = min(fc["day"]) if len(fc) else None
    open_ = fc[~fc["closed"].astype(bool)] if len(fc) else fc
    rows = []
    for c in changes:
        if first is None or c.start < first:
            continue
        scope = [
            f"{t(k, language)} {', '.join(ids)}"
            for k, ids in (("floors", c.floors), ("departments", c.departments))
            if ids
        ]
        on = open_[open_["day"] >= c.start]
        mine = _fmt(float(on["planned_factor"].iloc[0]), language) if len(on) else "–"
        rows.append(
            (
                c.start.isoformat(),
                "× " + _fmt(c.factor, language),
                "; ".join(scope) or t("whole_site", language),
                c.note or "–",
                mine,
            )
        )
    cols = ["date", "factor", "scope", "note", "planned_factor"]
    return pd.DataFrame(rows, columns=cols)


def iv_figure(
    weeks: pd.DataFrame,
    zones: list[str],
    control: list[str],
    day: dt.date,
    language: str,
) -> go.Figure:
    traces = []
    for name, ids, color in (
        ("treated", zones, OKABE_ITO[5]),
        ("control", control, "#777777"),
    ):
        w = weeks[weeks["zone_id"].isin(ids)].groupby("week")["cross_pairs"].mean()
        traces.append(
            go.Scatter(
                x=list(w.index),
                y=w.to_numpy(),
                name=t(name, language),
                mode="lines+markers",
                line={"color": color},
            )
        )
    fig = go.Figure(traces)
    fig.add_vline(x=pd.Timestamp(day).timestamp() * 1000, line_dash="dash")
    styled(
        fig,
        **base_layout(height=300, legend={"orientation": "h", "y": -0.25}),
        yaxis_title=t("cross", language),
    )
    return fig


def pick_group(fc: pd.DataFrame, f: ViewFilters) -> str:
    """The view's floor/zone/department (``f``: the page filter) when it is
    one of the forecast's groups, else the first."""
    ids = list(dict.fromkeys(fc["level_id"]))
    for want in (f.zone, f.floor, f.department):
        if want in ids:
            return str(want)
    return str(ids[0])
