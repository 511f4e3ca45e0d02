"""What the Devices page shows of devices not placed in the building: family,
kinds, last topic and payload (``device_observations``, migration 0110).

A BLE/badge message's payload is never kept (raw MACs and beacon ids are
personal data): ``payload`` is ``None`` for it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import NamedTuple

from ingest.context import Discovered
from ingest.decoders.common import Decoded
from ingest.scrub import is_badge_topic
from occupancy.events import Kind

logger = logging.getLogger(__name__)

__all__ = ["MAX_PAYLOAD_CHARS", "Observation", "announce", "observe"]

#: Longest payload kept [characters].
MAX_PAYLOAD_CHARS = 2000


class Observation(NamedTuple):
    device_id: str
    family: str
    kinds: tuple[str, ...]
    topic: str
    payload: str | None
    heard: dt.datetime
    messages: int


def observe(
    into: dict[str, Observation],
    topic: str,
    payload: bytes,
    received_at: dt.datetime,
    result: Decoded,
    scrub: Callable[[str], str],
) -> None:
    """Fold one message of an unplaced device (``result.kinds`` set) into
    ``into``; the latest message wins, kinds accumulate. For a badge/BLE
    message the payload is not kept and the device id and topic (which can
    carry a beacon's MAC, e.g. ``espresense/devices/<mac>/...``) go through
    ``scrub`` (identifiers pseudonymised as at ingest)."""
    device = result.device_id
    if device is None:
        return
    shown: str | None = None
    topic_shown = topic.replace("\x00", "")
    if str(Kind.BADGE) in result.kinds or is_badge_topic(topic):
        device, topic_shown = scrub(device), scrub(topic_shown)
    else:
        shown = (
            payload[:MAX_PAYLOAD_CHARS].decode("utf-8", "replace").replace("\x00", "")
        )
    old = into.get(device)
    kinds = result.kinds if old is None else tuple(sorted({*old.kinds, *result.kinds}))
    into[device] = Observation(
        device,
        result.family,
        kinds,
        topic_shown,
        shown,
        received_at,
        1 if old is None else old.messages + 1,
    )


def announce(
    into: dict[str, Observation], d: Discovered, received_at: dt.datetime
) -> None:
    """A device announced with its kinds (zigbee2mqtt ``bridge/devices``, Home
    Assistant discovery) before any message of its own."""
    old = into.get(d.device_id)
    if old is not None or not d.kinds:
        return
    into[d.device_id] = Observation(
        d.device_id,
        d.family,
        d.kinds,
        d.topic.replace("\x00", ""),
        "(announced by its bridge or discovery config; no message of its own yet)",
        received_at,
        0,
    )
