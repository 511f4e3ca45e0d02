"""What an ingester is built from: the settings read into its parts (pure)."""

from __future__ import annotations

import logging

from ingest.context import DecodeContext, DeviceInfo
from ingest.limits import Admission
from ingest.scrub import Scrubber
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["IngestError", "admission", "build_context", "scrubber", "sizes"]


class IngestError(RuntimeError):
    """The ingester cannot start; the message says why and what to do."""


def build_context(
    settings: Settings, devices: list[DeviceInfo] | None
) -> DecodeContext:
    """The decode context from settings and the known devices (``None``: any)."""
    from zoneinfo import ZoneInfo

    return DecodeContext.from_devices(
        devices,
        tz=ZoneInfo(settings.timezone),
        max_clock_skew_s=float(settings.max_clock_skew_s),
        pseudonym_key=settings.pseudonym_key,
        topic_root=settings.topic_root,
        site=settings.site,
        max_payload_bytes=int(settings.max_payload_bytes),
    )


def scrubber(settings: Settings) -> Scrubber:
    """What takes raw identifiers out of rejected rows; refuses to start
    without a pseudonymisation key."""
    if not settings.pseudonym_key:
        raise IngestError(
            "no pseudonymisation key: set OCCUPANCY_PSEUDONYM_KEY to a long random "
            "secret (badge ids are hashed with it at ingest; see docs/privacy.md)"
        )
    try:
        return Scrubber(settings.pseudonym_key, str(settings.badge_payloads_stored))
    except ValueError as exc:
        raise IngestError(str(exc)) from exc


def sizes(settings: Settings) -> tuple[int, int, int]:
    """``batch_size``, the largest batch and Receive Maximum [messages]."""
    batch_size = max(1, int(settings.batch_size))
    # The batch grows with the backlog: whatever is queued, up to this (a lone
    # message is still written at once, alone).
    most = int(settings.batch_size_max) or 5 * batch_size
    batch_max = max(batch_size, min(most, int(settings.buffer_max)))
    # Three batches: one committing, the next being prepared, a third arriving
    # (with fewer the broker would stall during every commit); buffer_max caps it.
    rm = max(1, min(3 * batch_max, int(settings.buffer_max), 65535))
    return batch_size, batch_max, rm


def admission(settings: Settings) -> Admission:
    return Admission(
        settings.device_rate_limit_per_s,
        int(settings.device_rate_burst),
        settings.max_event_age_days * 86400.0,
        settings.device_rate_catch_up_s,
    )
