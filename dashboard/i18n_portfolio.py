"""The Portfolio page's labels in English and Dutch (merged into
:data:`dashboard.i18n.LABELS`)."""

from __future__ import annotations

__all__ = ["PORTFOLIO_LABELS"]

#: key -> (English, Dutch)
PORTFOLIO_LABELS: dict[str, tuple[str, str]] = {
    "nav_portfolio": ("Portfolio", "Portefeuille"),
    "pf_note": (
        "Every building of every site side by side over the period, each on "
        "its own site's local days and working hours (its time zone); the "
        "site and building filters do not apply here. Click a building to "
        "open its Overview.",
        "Alle gebouwen van alle locaties naast elkaar over de periode, elk in "
        "de eigen dagen en werktijden van zijn locatie (zijn tijdzone); de "
        "filters locatie en gebouw gelden hier niet. Klik op een gebouw om "
        "het overzicht ervan te openen.",
    ),
    "pf_rank_by": ("Rank by", "Rangschikken op"),
    "pf_r_utilization_pct": ("Utilization", "Benutting"),
    "pf_r_time_used_pct": ("Time used", "Tijd in gebruik"),
    "pf_r_cost_per_used_desk": ("Cost per used desk", "Kosten per gebruikt bureau"),
    "pf_r_mixing": ("Department mix", "Mix van afdelingen"),
    "pf_buildings": ("Buildings", "Gebouwen"),
    "pf_desks": ("Desks", "Bureaus"),
    "pf_yearly_cost": (
        "Yearly cost of the buildings with a cost",
        "Jaarkosten van de gebouwen met kosten",
    ),
    "pf_median_util": ("Median utilization", "Mediane benutting"),
    "pf_figure": (
        "Utilization per building, ranked",
        "Benutting per gebouw, gerangschikt",
    ),
    "pf_now": ("This period", "Deze periode"),
    "pf_trend": (
        "Utilization per week, the {weeks} weeks up to the period's end",
        "Benutting per week, de {weeks} weken tot het eind van de periode",
    ),
    "pf_week": ("Week (Monday)", "Week (maandag)"),
    "pf_before": ("Previous period", "Vorige periode"),
    "pf_open": ("Open a building's Overview", "Open het overzicht van een gebouw"),
    "pf_col_rank": ("Rank", "Rang"),
    "pf_col_building": ("Building", "Gebouw"),
    "pf_col_timezone": ("Time zone", "Tijdzone"),
    "pf_col_desks": ("Desks", "Bureaus"),
    "pf_col_peak": ("Average daily peak (people)", "Gemiddelde dagpiek (personen)"),
    "pf_col_used_desks": (
        "Used desks (average daily peak)",
        "Gebruikte bureaus (gem. dagpiek)",
    ),
    "pf_col_desks_per_person": ("Desks per present person", "Bureaus per aanwezige"),
    "pf_col_room_fit": (
        "Meeting-room fit (% of seats used)",
        "Passing vergaderruimtes (% stoelen gebruikt)",
    ),
    "pf_col_half_empty": (
        "Rooms at ≤ half the seats (% of use)",
        "Ruimtes op ≤ helft van de stoelen (% van gebruik)",
    ),
    "pf_col_mixing": ("Department mix (0-100)", "Mix van afdelingen (0-100)"),
    "pf_col_yearly_cost": ("Yearly cost (EUR)", "Jaarkosten (EUR)"),
    "pf_col_cost_used": (
        "Cost per used desk (EUR/year)",
        "Kosten per gebruikt bureau (EUR/jaar)",
    ),
    "pf_col_trend": (
        "Utilization vs previous period (pp)",
        "Benutting t.o.v. vorige periode (pp)",
    ),
}
