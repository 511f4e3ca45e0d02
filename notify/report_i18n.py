"""Words of the weekly report in English and Dutch."""

from __future__ import annotations

import math

__all__ = ["TEXT", "fmt_num"]

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Weekly occupancy report",
        "week": "Week {week} ({first} – {last})",
        "headline": "Headline figures",
        "measure": "Measure", "this_week": "This week", "last_week": "Last week",
        "change": "Change", "target": "Target band",
        "time_used_pct": "Time used (%)", "utilization_pct": "Utilization (%)",
        "peak_people": "Peak (people)", "avg_daily_peak": "Average daily peak (people)",
        "free_desks_at_peak": "Free desks at peak", "band": "Band",
        "under": "under-used", "optimal": "optimal", "over": "over-used",
        "floors": "Utilization per floor", "busiest": "Busiest spaces",
        "emptiest": "Emptiest spaces", "space": "Space", "kind": "Kind",
        "rooms": "Room right-sizing", "room": "Room", "seats": "Seats",
        "p90_people": "People (p90)", "recommended_seats": "Recommended seats",
        "verdict": "Verdict", "too_big": "too big", "right": "right", "too_small": "too small",
        "no_rooms": "No room needs another size this week.",
        "colocation": "Co-location highlights", "departments": "Departments",
        "minutes": "Minutes together", "lift": "Lift",
        "no_colocation": "No pair of departments with at least k people each.",
        "devices": "Device health", "devices_total": "Devices", "offline": "Offline",
        "low_battery": "Battery below {pct:.0f} %", "no_data": "Spaces without data > 20 % of the time",
        "profile": "Mean head count per hour (building)", "people": "people",
        "privacy": "Aggregates of fewer than {k} people are not shown. Figures as `occupancy export` gives them for the same week.",
        "none": "–",
    },
    "nl": {
        "title": "Wekelijks bezettingsrapport",
        "week": "Week {week} ({first} – {last})",
        "headline": "Kerncijfers",
        "measure": "Maat", "this_week": "Deze week", "last_week": "Vorige week",
        "change": "Verschil", "target": "Doelband",
        "time_used_pct": "Tijd in gebruik (%)", "utilization_pct": "Bezettingsgraad (%)",
        "peak_people": "Piek (personen)", "avg_daily_peak": "Gemiddelde dagpiek (personen)",
        "free_desks_at_peak": "Vrije werkplekken bij piek", "band": "Band",
        "under": "onderbenut", "optimal": "optimaal", "over": "overbenut",
        "floors": "Bezettingsgraad per verdieping", "busiest": "Drukste ruimtes",
        "emptiest": "Leegste ruimtes", "space": "Ruimte", "kind": "Soort",
        "rooms": "Vergaderruimtes op maat", "room": "Ruimte", "seats": "Stoelen",
        "p90_people": "Personen (p90)", "recommended_seats": "Aanbevolen stoelen",
        "verdict": "Oordeel", "too_big": "te groot", "right": "goed", "too_small": "te klein",
        "no_rooms": "Geen ruimte heeft deze week een andere maat nodig.",
        "colocation": "Samenwerking tussen afdelingen", "departments": "Afdelingen",
        "minutes": "Minuten samen", "lift": "Lift",
        "no_colocation": "Geen paar afdelingen met elk minstens k personen.",
        "devices": "Sensoren", "devices_total": "Sensoren", "offline": "Offline",
        "low_battery": "Batterij onder {pct:.0f} %", "no_data": "Ruimtes > 20 % van de tijd zonder data",
        "profile": "Gemiddeld aantal personen per uur (gebouw)", "people": "personen",
        "privacy": "Cijfers over minder dan {k} personen worden niet getoond. Cijfers zoals `occupancy export` ze voor dezelfde week geeft.",
        "none": "–",
    },
}  # fmt: skip


def fmt_num(value: object, lang: str, digits: int = 1) -> str:
    """A number with ``digits`` decimals (Dutch: decimal comma); – when empty."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return TEXT[lang]["none"]
    if math.isnan(f):
        return TEXT[lang]["none"]
    text = f"{f:.{digits}f}"
    return text.replace(".", ",") if lang == "nl" else text
