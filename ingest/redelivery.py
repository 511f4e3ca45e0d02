"""Redelivered messages keep their first arrival time (pure but for the lookup).

A message whose event time is its arrival time (no device time, or a device
clock corrected to the arrival) would get another event time, so another
unique key, when the broker redelivers it. The first arrival is recorded per
MQTT packet id with a checksum and the message's position in the client's
received count (:meth:`ingest.writer.Writer.recall_arrivals`); a redelivery
(DUP flag, same packet id) takes it back from there, or from earlier in the
same batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Callable, Sequence

from occupancy.events import TsSource

logger = logging.getLogger(__name__)

__all__ = ["ARRIVAL_SOURCES", "Msg", "digest_of", "recall"]

#: A queued message: (topic bytes, payload, received_at [Unix s], mid, qos,
#: connection generation, DUP flag). A plain tuple: no object churn on the
#: network thread.
Msg = tuple[bytes, bytes, float, int, int, int, bool]

#: Event times taken from the arrival time: a redelivery would get another one.
ARRIVAL_SOURCES = frozenset({TsSource.ARRIVAL, TsSource.CORRECTED})

#: ``(packet ids, after position) -> mid -> (position, digest, received_at)``
Lookup = Callable[..., dict[int, tuple[int, int, dt.datetime]]]


def digest_of(topic: bytes, payload: bytes) -> int:
    """A checksum of a message, to recognise its redelivery."""
    return zlib.crc32(payload, zlib.crc32(topic + b"\x00"))


def recall(batch: Sequence[Msg], oldest: int, lookup: Lookup) -> dict[int, float]:
    """Arrival times [Unix s] for redelivered messages (DUP flag) in ``batch``,
    by index: the first arrival of the same message, from earlier in this batch
    or stored (``lookup(mids, after=oldest)``) at a position after ``oldest``
    (older packet ids may have been reused since) with the same checksum."""
    dups = [i for i, m in enumerate(batch) if m[6] and m[4] == 1]
    if not dups:
        return {}
    out: dict[int, float] = {}
    first: dict[tuple[int, int], float] = {}
    for i, m in enumerate(batch[: dups[-1] + 1]):
        if m[4] != 1:
            continue
        key = (m[3], digest_of(m[0], m[1]))
        if m[6] and key in first:
            out[i] = first[key]
        else:
            first.setdefault(key, m[2])
    stored = lookup(sorted({batch[i][3] for i in dups if i not in out}), after=oldest)
    for i in dups:
        hit = stored.get(batch[i][3])
        if i in out or hit is None:
            continue
        position, digest, received_at = hit
        if position > oldest and digest == digest_of(batch[i][0], batch[i][1]):
            out[i] = received_at.timestamp()
    if out:
        logger.info("%d redelivered message(s) keep their first arrival time", len(out))
    return out
