"""Settings of one area. Analytics: privacy threshold, rollups, use thresholds, targets, retention."""

from __future__ import annotations

from occupancy.settings_areas.spec import _S, _settings_class


@_settings_class
class AnalyticsSettings:
    """Analytics: privacy threshold, rollups, use thresholds, targets, retention."""

    k_anonymity: int = _S(
        5, "Aggregates covering fewer than this many distinct people are suppressed."
    )
    bucket_minutes: int = _S(15, "Width of the time buckets of the rollups.")
    gap_bridge_min: float = _S(
        15.0, "Vacant gaps shorter than this inside a session count as occupied [min]."
    )
    heartbeat_timeout_min: float = _S(
        20.0, "A sensor silent for longer than this has unknown state [min]."
    )
    desk_min_hour_min: float = _S(
        5.0, "A desk counts as used in an hour after this much presence [min]."
    )
    desk_min_day_min: float = _S(
        30.0, "A desk counts as used in a day after this much presence [min]."
    )
    collab_min_hour_min: float = _S(
        10.0, "A collaboration space counts as used in an hour after this much [min]."
    )
    collab_min_day_min: float = _S(
        60.0, "A collaboration space counts as used in a day after this much [min]."
    )
    target_low_pct: float = _S(
        60.0, "Below this utilization a space is under-used [%]."
    )
    target_high_pct: float = _S(
        100.0, "Above this utilization a space is over-used [%]."
    )
    stuck_after_h: float = _S(
        16.0,
        "A desk sensor reporting occupied without a break for longer than this is "
        "stuck: its run is excluded and reported as data quality [h] (at most 24).",
    )
    free_desk_factor: float = _S(
        0.85, "Free desks at peak = desks x this factor - people at peak (Serraview)."
    )
    retention_days: int = _S(
        90, "Raw events older than this are deleted; aggregates are kept."
    )
    analyze_arrival_grace_s: float = _S(
        300.0,
        "The watermark of incremental `occupancy analyze` stays this far behind "
        "the database clock [s]: an ingester stamps received_at when a message "
        "arrives, before its batch commits, so a batch committed during a run "
        "can carry a stamp older than the newest one the run saw; the next run "
        "reads those seconds again. Longer than an ingest transaction; after a "
        "database outage longer than this, run `analyze --full` (docs/analytics.md).",
    )
    # Partitions of `occupancy analyze` (docs/scaling.md)
    analyze_workers: int = _S(
        1,
        "Processes `occupancy analyze` computes its chunks of days in (1: in "
        "this process, as before). Same rollups for any number.",
    )
    analyze_chunk_days: int = _S(
        14,
        "Local days per chunk of `occupancy analyze` (the unit read, computed in "
        "parallel and written in one transaction). Same rollups for any size.",
    )
    dask_scheduler: str | None = _S(
        None,
        "Dask distributed scheduler (tcp://host:8786) whose workers compute the "
        "chunks of `occupancy analyze` instead of local processes; the workers "
        "read the events from database_url themselves. Unset: no cluster.",
    )
