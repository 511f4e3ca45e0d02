"""Settings of one area. Integrations (api/, notify/): webhooks, alerts, email."""

from __future__ import annotations

from occupancy.settings_areas.spec import _S, Topics, _settings_class


@_settings_class
class IntegrationsSettings:
    """Integrations (api/, notify/): webhooks, alerts, email."""

    notify_interval_s: float = _S(
        1.0,
        "Seconds between two rounds of `occupancy webhooks run` / `occupancy "
        "alerts run` (live state read, alert rules, webhook deliveries).",
    )
    notify_health_file: str = _S(
        "",
        "File the notifier touches after every successful round (a container "
        "health check reads its age); empty: none.",
    )
    webhook_debounce_s: float = _S(
        30.0,
        "A space's new live state must hold this long before a space.state "
        "webhook announces it (a flapping sensor sends nothing) [s].",
    )
    webhook_timeout_s: float = _S(
        5.0,
        "Time a webhook receiver has to answer one delivery [s].",
    )
    webhook_retry_base_s: float = _S(
        1.0,
        "First retry delay of a failed webhook delivery; doubled per attempt [s].",
    )
    webhook_retry_max_s: float = _S(
        30.0,
        "Longest delay between two attempts of a webhook delivery [s].",
    )
    webhook_max_failures: int = _S(
        20,
        "Consecutive failed deliveries after which a subscription is disabled "
        "(`occupancy webhooks enable ID` turns it on again).",
    )
    alert_device_silent_min: float = _S(
        60.0,
        "Alert rule: a device silent for longer than this [min] (0: rule off).",
    )
    alert_battery_pct: float = _S(
        15.0,
        "Alert rule: a device whose battery is below this [%] (0: rule off).",
    )
    alert_room_capacity_factor: float = _S(
        1.0,
        "Alert rule: a room whose live head count is above capacity x this (0: off).",
    )
    alert_data_gap_min: float = _S(
        30.0,
        "Alert rule: no event from any device of the site for longer than this "
        "[min] during working hours (0: rule off).",
    )
    alert_ingest_lag_s: float = _S(
        60.0,
        "Alert rule: median arrival lag (received_at - ts) of the last 5 "
        "minutes of events above this [s] (0: rule off).",
    )
    alert_rejected_pct: float = _S(
        5.0,
        "Alert rule: share of rejected messages in the last 10 minutes above "
        "this [%] (with at least 20 messages; 0: rule off).",
    )
    smtp_url: str | None = _S(
        None,
        "SMTP server for alert and report email: smtp://user:pass@host:port "
        "(smtps:// for TLS, smtp+starttls:// for STARTTLS). Unset: no email.",
        secret=True,
    )
    smtp_from: str = _S(
        "occupancy@localhost",
        "Sender address of alert email.",
    )
    alert_email_to: Topics = _S(
        "",
        "Recipients of alert email, comma separated (empty: no alert email).",
    )
