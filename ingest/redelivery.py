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
from typing import NamedTuple

from occupancy.events import TsSource

logger = logging.getLogger(__name__)

__all__ = ["ARRIVAL_SOURCES", "Msg", "StoredArrival", "digest_of", "recall"]


class Msg(NamedTuple):
    """A queued message, as the network thread hands it to the worker (a
    NamedTuple: a tuple's cost on the hot path, with names)."""

    topic: bytes
    payload: bytes
    arrived: float  # received_at [Unix s]
    mid: int  # MQTT packet id (0: QoS 0)
    qos: int
    generation: int  # the connection it came on (acks go only to that one)
    dup: bool  # the broker's DUP flag: a redelivery


class StoredArrival(NamedTuple):
    """A first arrival stored for a packet id (``ingest_arrival_batches``)."""

    position: int
    digest: int
    received_at: dt.datetime


#: Event times taken from the arrival time: a redelivery would get another one.
ARRIVAL_SOURCES = frozenset({TsSource.ARRIVAL, TsSource.CORRECTED})

#: ``(packet ids, after position) -> mid -> StoredArrival``
Lookup = Callable[..., dict[int, StoredArrival]]


def digest_of(topic: bytes, payload: bytes) -> int:
    """A checksum of a message, to recognise its redelivery."""
    return zlib.crc32(payload, zlib.crc32(topic + b"\x00"))


def recall(batch: Sequence[Msg], oldest: int, lookup: Lookup) -> dict[int, float]:
    """Arrival times [Unix s] for redelivered messages (DUP flag) in ``batch``,
    by index: the first arrival of the same message, from earlier in this batch
    or stored (``lookup(mids, after=oldest)``) at a position after ``oldest``
    (older packet ids may have been reused since) with the same checksum."""
    dups = [i for i, m in enumerate(batch) if m.dup and m.qos == 1]
    if not dups:
        return {}
    out: dict[int, float] = {}
    first: dict[tuple[int, int], float] = {}
    for i, m in enumerate(batch[: dups[-1] + 1]):
        if m.qos != 1:
            continue
        key = (m.mid, digest_of(m.topic, m.payload))
        if m.dup and key in first:
            out[i] = first[key]
        else:
            first.setdefault(key, m.arrived)
    stored = lookup(sorted({batch[i].mid for i in dups if i not in out}), after=oldest)
    for i in dups:
        hit = stored.get(batch[i].mid)
        if i in out or hit is None:
            continue
        if hit.position > oldest and hit.digest == digest_of(
            batch[i].topic, batch[i].payload
        ):
            out[i] = hit.received_at.timestamp()
    if out:
        logger.info("%d redelivered message(s) keep their first arrival time", len(out))
    return out
