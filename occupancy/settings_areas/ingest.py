"""Settings of one area. Ingest: topics, batching, limits, pseudonymisation, metrics."""

from __future__ import annotations

from occupancy.settings_areas.spec import _S, Topics, _settings_class


@_settings_class
class IngestSettings:
    """Ingest: topics, batching, limits, pseudonymisation, metrics."""

    topic_root: str = _S(
        "occupancy",
        "First segment of our own topic format occupancy/<site>/<device>/<kind>.",
    )
    ingest_topics: Topics = _S(
        "occupancy/#", "Topic filters the ingester subscribes to, comma separated."
    )
    ingest_group: str = _S(
        "",
        "Shared-subscription group ($share/<group>/...) for several ingesters; "
        "empty (default): a plain subscription, the only kind Mosquitto 2.0 "
        "keeps across a broker restart (docs/ingest.md).",
    )
    ingest_client_id: str = _S(
        "occupancy-ingest-1",
        "Fixed MQTT client id of this ingester (its persistent session).",
    )
    batch_size: int = _S(1000, "Events written per database transaction at most.")
    buffer_max: int = _S(
        20000,
        "Messages held in memory while the database is unreachable; beyond this the "
        "ingester stops taking messages (the broker keeps them).",
    )
    device_health_interval_s: float = _S(
        5.0,
        "Seconds between the ingester's device_health writes (last seen, battery, "
        "online; merged in between, all written at stop); 0: with every batch.",
    )
    max_payload_bytes: int = _S(65536, "Larger payloads are rejected.")
    max_clock_skew_s: int = _S(
        300,
        "A device timestamp further than this from arrival time is not trusted: "
        "the arrival time is used and the event flagged.",
    )
    pseudonym_key: str | None = _S(
        None,
        "Key of the keyed hash (HMAC-SHA256) that pseudonymises badge ids at ingest. "
        "Required by the ingester; keep it secret, rotate as in docs/privacy.md.",
        secret=True,
    )
    metrics_port: int = _S(
        9108,
        "Port of the ingester's Prometheus /metrics and /health endpoint (0: off).",
    )
    metrics_host: str = _S(
        "127.0.0.1",
        "Address the metrics endpoint listens on (0.0.0.0 inside a container so "
        "Prometheus can scrape it).",
    )

    # Ingest limits
    mqtt_fast_path: bool = _S(
        False,
        "Opt in to the ingester's lean paho path (PUBLISH without properties "
        "skips paho's message objects; buffered reads; one write per batch of "
        "acks). Used only with the tested paho-mqtt release, else stock paho.",
    )
    batch_size_max: int = _S(
        0,
        "Largest batch the ingester writes in one transaction when a backlog is "
        "queued (the batch grows with it; a lone message is written alone); "
        "0: 5 × batch_size. Receive Maximum is 3 × this (capped by buffer_max).",
    )
    device_rate_limit_per_s: float = _S(
        200.0,
        "Messages per second one device may send on average; beyond it (and the"
        " burst) its messages are refused as rate_limited (counted, not "
        "stored); 0: no limit.",
    )
    device_rate_burst: int = _S(
        2000,
        "Messages one device may send at once above its rate limit (token bucket).",
    )
    device_rate_catch_up_s: float = _S(
        900.0,
        "How far behind arrival a device's own clock may refill its rate limit:"
        " a backlog queued by the broker while the ingester was away arrives at"
        " once but is judged by the device times it was sent at, up to this "
        "many seconds back (a device faking old times gains at most rate x "
        "this once).",
    )
    max_event_age_days: float = _S(
        366.0,
        "A device time older than this many days before arrival is refused as "
        "too_old (a 1970 clock would force recomputes); 0: no horizon "
        "(replays).",
    )
    unhealthy_after_failures: int = _S(
        3,
        "The ingester's /health answers 503 after this many failed batch "
        "attempts in a row (database down, a batch that keeps failing).",
    )
    badge_payloads_stored: str = _S(
        "pseudonymised",
        "Rejected badge/BLE messages: 'pseudonymised' stores the payload with "
        "every MAC-like identifier replaced by its pseudonym, 'hash' stores "
        "only a SHA-256 of the raw bytes (and the reason).",
    )
