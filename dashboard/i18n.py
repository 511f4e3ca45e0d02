"""Dashboard labels in English and Dutch (setting ``language``: en | nl).

Every visible string goes through :func:`t`, so a missing translation shows the
English text rather than a key.
"""

from __future__ import annotations

import logging

from dashboard.i18n_portfolio import PORTFOLIO_LABELS

logger = logging.getLogger(__name__)

__all__ = [
    "LABELS",
    "LANGUAGES",
    "REJECTION_REASONS",
    "rejection_reason",
    "t",
    "tv",
    "weekdays",
]

LANGUAGES = ("en", "nl")

#: key -> (English, Dutch)
LABELS: dict[str, tuple[str, str]] = {
    "app_title": ("Workplace occupancy", "Werkplekbezetting"),
    # navigation
    "nav_overview": ("Overview", "Overzicht"),
    "nav_floor_map": ("Floor map", "Plattegrond"),
    "nav_patterns": ("Patterns", "Patronen"),
    "nav_rooms": ("Meeting rooms", "Vergaderruimtes"),
    "nav_collaboration": ("Collaboration", "Samenwerking"),
    "nav_devices": ("Devices", "Apparaten"),
    "nav_export": ("Export", "Exporteren"),
    "nav_plan": ("Plan", "Plannen"),
    "nav_space": ("Space history", "Historie van een ruimte"),
    # filters
    "f_site": ("Site", "Locatie"),
    "f_building": ("Building", "Gebouw"),
    "f_floor": ("Floor", "Verdieping"),
    "f_zone": ("Zone", "Zone"),
    "f_department": ("Department", "Afdeling"),
    "f_period": ("Period", "Periode"),
    "f_working_hours": ("Working hours only", "Alleen werktijden"),
    "f_all": ("All", "Alle"),
    "f_level": ("Level", "Niveau"),
    "f_measure": ("Colour by", "Kleur naar"),
    "f_report": ("Report", "Rapport"),
    # measures and words (glossary: docs/dashboard.md)
    "m_time_used_pct": ("Time used (%)", "Tijd in gebruik (%)"),
    "m_utilization_pct": ("Utilization (%)", "Benutting (%)"),
    "m_avg_utilization": ("Average utilization", "Gemiddelde benutting"),
    "m_peak_utilization": ("Peak utilization", "Piekbenutting"),
    "m_avg_daily_peak": ("Average daily peak", "Gemiddelde dagpiek"),
    "m_peak_people": ("Peak people", "Piek personen"),
    "m_live": ("Live state", "Actuele status"),
    "m_people": ("People", "Personen"),
    "m_capacity": ("Seats", "Zitplaatsen"),
    "m_trend": ("vs previous period", "t.o.v. vorige periode"),
    "m_lift": ("Lift (observed ÷ expected)", "Lift (waargenomen ÷ verwacht)"),
    "m_copresence_h": ("Co-presence (h)", "Gelijktijdige aanwezigheid (u)"),
    "m_no_show_pct": ("No-show rate (%)", "No-show percentage (%)"),
    "m_unbooked_pct": ("Unbooked use (%)", "Ongeboekt gebruik (%)"),
    "m_small_meetings_pct": (
        "Meetings using ≤ half the seats (%)",
        "Vergaderingen met ≤ helft van de stoelen (%)",
    ),
    "m_diversity": ("Department diversity", "Diversiteit van afdelingen"),
    # overview
    "now": ("Now", "Nu"),
    "now_people": ("People in the building", "Personen in het gebouw"),
    "now_free_desks": ("Free desks", "Vrije bureaus"),
    "now_free_rooms": ("Free rooms", "Vrije ruimtes"),
    "now_of_measured": ("of those with live data", "van die met actuele data"),
    "now_no_recent": ("Spaces without recent data", "Ruimtes zonder recente data"),
    "now_stale": (
        "No live data: the last message arrived {when} (site time).",
        "Geen actuele data: het laatste bericht kwam op {when} (lokale tijd).",
    ),
    "now_never": (
        "No live data: no device has sent anything yet.",
        "Geen actuele data: nog geen enkel apparaat heeft iets gestuurd.",
    ),
    "period_kpis": ("Chosen period", "Gekozen periode"),
    "under_used": ("Under-used", "Onderbenut"),
    "optimal": ("Optimal", "Optimaal"),
    "over_used": ("Over-used", "Overbenut"),
    "top_under": ("Most under-used spaces", "Meest onderbenutte ruimtes"),
    "top_over": ("Most used spaces", "Meest gebruikte ruimtes"),
    "target_bands": ("Target bands", "Doelbanden"),
    # states
    "occupied": ("Occupied", "Bezet"),
    "free": ("Free", "Vrij"),
    "unknown": ("Unknown (no recent data)", "Onbekend (geen recente data)"),
    "online": ("Online", "Online"),
    "live_occupied": ("Occupied", "Bezet"),
    "live_free": ("Vacant", "Vrij"),
    "live_unknown": ("Unknown (no recent data)", "Onbekend (geen recente data)"),
    "live_offline": ("Sensor offline", "Sensor offline"),
    "live_private": (
        "Assigned desk (not shown: personal data)",
        "Vaste werkplek (niet getoond: persoonsgegevens)",
    ),
    "offline": ("Offline", "Offline"),
    # empty states
    "empty_no_data": (
        "No data in the chosen range: pick another period or filter.",
        "Geen gegevens in de gekozen periode: kies een andere periode of filter.",
    ),
    "empty_all_suppressed": (
        "Every cell covers fewer than {k} people and is suppressed for privacy.",
        "Elke cel betreft minder dan {k} personen en wordt om privacyredenen verborgen.",
    ),
    "empty_no_analytics": (
        "The analytics rollups are not available ({why}); run `occupancy analyze`.",
        "De analyse-tabellen zijn niet beschikbaar ({why}); draai `occupancy analyze`.",
    ),
    "empty_no_bookings": (
        "No bookings known in this range: no-shows cannot be measured.",
        "Geen boekingen bekend in deze periode: no-shows zijn niet te meten.",
    ),
    "empty_no_devices": ("No devices are known.", "Er zijn geen apparaten bekend."),
    "empty_no_rejected": (
        "No rejected messages in the chosen range.",
        "Geen geweigerde berichten in de gekozen periode.",
    ),
    "empty_no_space": (
        "Choose a space on the floor map to see its history.",
        "Kies een ruimte op de plattegrond om de historie te zien.",
    ),
    "suppressed": ("suppressed (< k people)", "verborgen (< k personen)"),
    "week_of": ("week starting", "week vanaf"),
    "error": (
        "Something went wrong while loading this view; the error is logged.",
        "Er ging iets mis bij het laden; de fout is gelogd.",
    ),
    # devices
    "dev_total": ("Devices", "Apparaten"),
    "dev_online": ("Online", "Online"),
    "dev_offline": ("Offline or silent", "Offline of stil"),
    "dev_low_battery": ("Battery below 20 %", "Batterij onder 20 %"),
    "dev_unassigned": ("Unassigned devices", "Niet-toegewezen apparaten"),
    "dev_last_seen": ("Last seen", "Laatst gezien"),
    "dev_battery": ("Battery (%)", "Batterij (%)"),
    "dev_gap": ("Silent for (h)", "Stil sinds (u)"),
    "dev_family": ("Family", "Familie"),
    "dev_kinds": ("Reports", "Meldt"),
    "dev_last_payload": ("Last message", "Laatste bericht"),
    "dev_withheld": (
        "(BLE: withheld, personal data)",
        "(BLE: niet bewaard, persoonsgegevens)",
    ),
    "dev_rejected": ("Rejected messages by reason", "Geweigerde berichten per reden"),
    "dev_reason": ("Reason", "Reden"),
    "dev_rejected_total": ("Rejected messages", "Geweigerde berichten"),
    "dev_since": ("received since {date}", "ontvangen sinds {date}"),
    "dev_count": ("Messages", "Berichten"),
    # export
    "exp_intro": (
        "Every report of `occupancy export` for the current filters, as CSV "
        "(exactly the file the command writes; cells under k people are left out).",
        "Elk rapport van `occupancy export` voor de huidige filters, als CSV "
        "(precies het bestand dat het commando schrijft; cellen onder k personen "
        "zijn weggelaten).",
    ),
    "exp_download": ("Download CSV", "CSV downloaden"),
    # patterns
    "pat_heatmap": ("Hour of week", "Uur van de week"),
    "pat_dow": ("Day of week", "Dag van de week"),
    "pat_weekly": ("Weekly trend", "Trend per week"),
    "hour": ("Hour", "Uur"),
    "day": ("Day", "Dag"),
    "week": ("Week", "Week"),
    # rooms
    "rooms_sizing": (
        "Right-sizing: people vs seats",
        "Juiste maat: personen vs stoelen",
    ),
    "rooms_bookings": ("Bookings", "Boekingen"),
    "rooms_mean_people": (
        "Mean people while occupied",
        "Gemiddeld personen bij gebruik",
    ),
    "rooms_p90_people": ("90th percentile people", "90e percentiel personen"),
    # collaboration
    "col_matrix": ("Department co-location", "Co-locatie van afdelingen"),
    "col_network": ("Network", "Netwerk"),
    "col_mix": (
        "Mix of departments in shared spaces",
        "Mix van afdelingen in gedeelde ruimtes",
    ),
    "col_note": (
        "Co-presence is not contact. Cells covering fewer than {k} people are "
        "grey, marked ×, and their value is never shown.",
        "Gelijktijdige aanwezigheid is geen contact. Cellen met minder dan {k} "
        "personen zijn grijs, gemarkeerd met ×, en hun waarde wordt nooit getoond.",
    ),
    "space": ("Space", "Ruimte"),
    # table columns (units in brackets)
    "csv_download": ("Download CSV of this table", "CSV van deze tabel downloaden"),
    "col_space": ("Space", "Ruimte"),
    "col_room": ("Room", "Ruimte"),
    "col_kind": ("Type", "Soort"),
    "col_seats": ("Seats", "Zitplaatsen"),
    "col_mean_people": ("Mean people while occupied", "Gem. personen bij gebruik"),
    "col_p90_people": ("90th percentile people", "90e percentiel personen"),
    "col_recommended": ("Recommended seats", "Aanbevolen zitplaatsen"),
    "col_seats_change": ("Seats to add (−: remove)", "Stoelen erbij (−: eraf)"),
    "col_verdict": ("Verdict", "Oordeel"),
    "col_occupied": ("Occupied (h min)", "Bezet (u min)"),
    "col_bookings": ("Bookings", "Boekingen"),
    "col_booked": ("Booked (h min)", "Geboekt (u min)"),
    "col_no_show": ("No-show rate (%)", "No-show percentage (%)"),
    "col_unbooked": ("Unbooked use (%)", "Ongeboekt gebruik (%)"),
    "col_device": ("Device", "Apparaat"),
    "col_status": ("Status", "Status"),
    "col_zone": ("Zone", "Zone"),
    "col_family": ("Message format", "Berichtformaat"),
    "col_last_seen": ("Last seen (local time)", "Laatst gezien (lokale tijd)"),
    "col_silent": ("Silent for (h min)", "Stil sinds (u min)"),
    "col_battery": ("Battery (%)", "Batterij (%)"),
    "col_time_used": ("Time used (%)", "Tijd in gebruik (%)"),
    "col_utilization": ("Utilization (%)", "Benutting (%)"),
    # values shown in tables
    "v_too_big": ("Too big", "Te groot"),
    "v_right": ("Right size", "Juiste maat"),
    "v_too_small": ("Too small", "Te klein"),
    "k_desk": ("Desk", "Bureau"),
    "k_meeting_room": ("Meeting room", "Vergaderruimte"),
    "k_focus_room": ("Focus room", "Stilteruimte"),
    "k_phone_booth": ("Phone booth", "Belcel"),
    "k_desk_sensor": ("Desk sensor", "Bureausensor"),
    "k_room_counter": ("Room counter", "Ruimteteller"),
    "k_zone_counter": ("Zone counter", "Zoneteller"),
    "k_ble_scanner": ("BLE scanner", "BLE-scanner"),
    "s_never": ("Never heard", "Nooit gehoord"),
    "rooms_rule": (
        "Recommended seats = 90th percentile of the people while occupied + "
        "{margin:.0f} %, rounded up. Too small: fewer seats than that 90th "
        "percentile; too big: {spare} or more seats beyond the recommendation.",
        "Aanbevolen zitplaatsen = 90e percentiel van het aantal personen bij "
        "gebruik + {margin:.0f} %, naar boven afgerond. Te klein: minder stoelen "
        "dan dat 90e percentiel; te groot: {spare} of meer stoelen boven het advies.",
    ),
    "rooms_verdicts": ("Right-sizing per room", "Juiste maat per ruimte"),
    "floor_map_hint": (
        "Click a desk or room to open its history.",
        "Klik op een bureau of ruimte voor de historie.",
    ),
}

#: Why the ingester refused a message (``rejected_messages.reason``, codes in
#: docs/ingest.md and docs/devices.md): code -> (English, Dutch). The Devices
#: page shows the words with the code beside them; an unknown code is shown as
#: it is.
REJECTION_REASONS: dict[str, tuple[str, str]] = {
    "bad_device_id": ("Invalid device id", "Ongeldige apparaat-id"),
    "bad_json": ("Not valid JSON", "Geen geldige JSON"),
    "bad_timestamp": ("Invalid timestamp", "Ongeldig tijdstip"),
    "bad_topic": ("Invalid topic", "Ongeldig topic"),
    "bad_value": ("Invalid value", "Ongeldige waarde"),
    "configuration_uplink": (
        "Configuration response, not a measurement",
        "Antwoord op configuratie, geen meting",
    ),
    "decoder_error": ("Payload decoder failed", "Decoder van het bericht faalde"),
    "device_info_uplink": (
        "Firmware or hardware report, not a measurement",
        "Firmware- of hardwaremelding, geen meting",
    ),
    "device_mismatch": (
        "Device id contradicts the topic",
        "Apparaat-id strijdig met het topic",
    ),
    "huge_number": ("Number too large", "Getal te groot"),
    "internal_error": ("Internal decoder error", "Interne fout in de decoder"),
    "invalid_utf8": ("Not valid UTF-8 text", "Geen geldige UTF-8-tekst"),
    "missing_field": ("Required field missing", "Verplicht veld ontbreekt"),
    "no_decoded_payload": ("No decoded payload", "Geen gedecodeerde inhoud"),
    "no_pseudonym_key": (
        "Badge message without pseudonym key",
        "Badgebericht zonder pseudoniemsleutel",
    ),
    "non_finite_number": ("NaN or infinity", "NaN of oneindig"),
    "nul_character": ("NUL character in message", "NUL-teken in bericht"),
    "rate_limited": ("Too many messages (rate limit)", "Te veel berichten (limiet)"),
    "too_deep": ("Nested too deeply", "Te diep genest"),
    "too_large": ("Message too large", "Bericht te groot"),
    "too_old": ("Timestamp too old", "Tijdstip te oud"),
    "unassigned_device": (
        "Device not placed in the building",
        "Apparaat niet in het gebouw geplaatst",
    ),
    "unknown_device": ("Unknown device", "Onbekend apparaat"),
    "unknown_kind": ("Unknown measurement kind", "Onbekend soort meting"),
    "unknown_site": ("Unknown site", "Onbekende locatie"),
    "unknown_topic": ("Unknown topic", "Onbekend topic"),
}
LABELS.update({f"rej_{code}": pair for code, pair in REJECTION_REASONS.items()})


def rejection_reason(code: object, lang: str = "en") -> str:
    """``"Unknown device (unknown_device)"``: a rejection code in words with
    the code kept; an unknown code as it is."""
    key = f"rej_{code}"
    return f"{t(key, lang)} ({code})" if key in LABELS else str(code)


# portfolio19: the Portfolio page's labels (dashboard/i18n_portfolio.py)
LABELS.update(PORTFOLIO_LABELS)

_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
}


def t(key: str, lang: str = "en", **fmt: object) -> str:
    """The label ``key`` in ``lang`` (en | nl), formatted with ``fmt``."""
    pair = LABELS.get(key)
    if pair is None:
        logger.warning("no label %r", key)
        return key
    text = pair[1] if lang == "nl" else pair[0]
    return text.format(**fmt) if fmt else text


def weekdays(lang: str = "en") -> tuple[str, ...]:
    """Short weekday names, Monday first."""
    return _WEEKDAYS.get(lang, _WEEKDAYS["en"])


def tv(prefix: str, value: object, lang: str = "en") -> str:
    """A value shown in a table (``verdict`` ``too_big`` -> ``"Too big"``):
    the label ``<prefix>_<value>`` when there is one, else the value itself."""
    key = f"{prefix}_{value}"
    return t(key, lang) if key in LABELS else str(value)
