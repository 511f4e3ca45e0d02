"""A batch of decoded messages turned into what the database is sent (pure).

:func:`prepare` builds the COPY text of events, badge sightings and arrival
rows, the rejected and discovered rows, the device-health rows and the message
counts of one batch, without touching the database, so the ingester can prepare
the next batch while the current one is in the database
(:mod:`ingest.service`). :class:`HealthBuffer` merges device-health rows
between writes: ``device_health`` is "last seen", written at most every few
seconds instead of with every batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ingest.context import DeviceInfo, Discovered
from ingest.decoders.common import Decoded
from ingest.limits import NOT_STORED
from ingest.observations import Observation, announce, observe
from ingest.scrub import Scrubber
from occupancy.events import Event, Kind

logger = logging.getLogger(__name__)

__all__ = [
    "ArrivalRow",
    "Batch",
    "BatchResult",
    "Health",
    "HealthBuffer",
    "HealthRow",
    "Item",
    "RejectedRow",
    "prepare",
]


@dataclass(slots=True)  # not frozen: its __init__ is 3x faster, one per message
class Item:
    """One received message and what it decoded to. ``mid`` (MQTT packet id,
    0: none), ``position`` (its place in this client's received count, -1: not
    tracked) and ``digest`` (of topic and payload; set only when the event time
    is the arrival time) let a redelivery get this arrival time back (see
    :meth:`ingest.writer.Writer.recall_arrivals`)."""

    topic: str
    payload: bytes
    received_at: dt.datetime
    result: Decoded
    mid: int = 0
    position: int = -1
    digest: int | None = None


@dataclass
class BatchResult:
    """What one committed batch did (messages and events)."""

    accepted: int = 0
    rejected: int = 0
    ignored: int = 0
    events_inserted: int = 0
    events_duplicate: int = 0
    badges_inserted: int = 0
    badges_duplicate: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        for name in (
            "accepted",
            "rejected",
            "ignored",
            "events_inserted",
            "events_duplicate",
            "badges_inserted",
            "badges_duplicate",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n


@dataclass(slots=True)
class HealthRow:
    """One device's ``device_health`` values, merged as the database upsert
    does (latest ``last_seen``; the newest non-null battery and online state)."""

    last_seen: dt.datetime
    battery_pct: float | None = None
    online: bool | None = None


#: ``device_id -> HealthRow``
Health = dict[str, HealthRow]


class RejectedRow(NamedTuple):
    """One ``rejected_messages`` row."""

    received_at: dt.datetime
    topic: str
    payload: bytes
    reason: str
    detail: str
    device_id: str | None


class ArrivalRow(NamedTuple):
    """One ``ingest_arrival_batches`` row but the client id: the last position
    and the array literals of packet ids, positions, digests and arrival times."""

    last_position: int
    mids: str
    positions: str
    digests: str
    received_at: str


class _Arrival(NamedTuple):
    position: int
    digest: int
    received_iso: str


@dataclass
class Batch:
    """Everything one transaction writes; ``counts`` has the message counts
    (the event counts are known only after the insert)."""

    items: Sequence[Item]
    received: int
    counts: BatchResult
    events: str = ""
    n_events: int = 0
    badges: str = ""
    n_badges: int = 0
    arrivals: ArrivalRow | None = None
    rejected: list[RejectedRow] = field(default_factory=list)
    discovered: list[Discovered] = field(default_factory=list)
    health: Health = field(default_factory=dict)
    #: Devices heard but not placed in the building (devices: observations.py).
    observed: list[Observation] = field(default_factory=list)


_NULL = r"\N"


def _num(value: float | None) -> str:
    return _NULL if value is None else str(value)


def _event_line(e: Event, ts_iso: str, received_iso: str, space: str | None) -> str:
    """One ``sensor_events`` COPY line (EVENT_COLUMNS order)."""
    return (
        f"{ts_iso}\t{e.device_id}\t{space or _NULL}\t{e.kind.value}\t"
        f"{_num(e.value)}\t{e.seq}\t{e.ts_source.value}\t{e.family}\t{received_iso}\n"
    )


def _badge_line(e: Event, ts_iso: str, received_iso: str, zone: str | None) -> str:
    """One ``badge_sightings`` COPY line (BADGE_COLUMNS order)."""
    return (
        f"{ts_iso}\t{e.device_id}\t{zone or _NULL}\t{e.badge or _NULL}\t"
        f"{_num(e.rssi)}\t{e.seq}\t{e.ts_source.value}\t{e.family}\t{received_iso}\n"
    )


def _arrival_row(arrivals: dict[int, _Arrival]) -> ArrivalRow | None:
    """``mid -> _Arrival`` as array literals (integers and ISO datetimes need
    no quoting in an array literal)."""
    if not arrivals:
        return None
    rows = arrivals.values()
    return ArrivalRow(
        last_position=max(r.position for r in rows),
        mids="{" + ",".join(map(str, arrivals)) + "}",
        positions="{" + ",".join(str(r.position) for r in rows) + "}",
        digests="{" + ",".join(str(r.digest) for r in rows) + "}",
        received_at="{" + ",".join(r.received_iso for r in rows) + "}",
    )


def _no_nul(text: str) -> str:
    """``text`` storable in PostgreSQL (which has no NUL in text values)."""
    return text.replace("\x00", "\\0") if "\x00" in text else text


#: Rejected payloads are stored up to this many bytes (an oversized one is cut).
MAX_STORED_PAYLOAD = 65536


#: Without a pseudonym key identifiers are replaced by ``<id>``.
_ANONYMOUS = Scrubber(None)


def _rejected_row(item: Item, scrub: Scrubber | None) -> RejectedRow:
    """The ``rejected_messages`` row of a refused ``item``: NUL characters
    written as ``\\0``, identifiers pseudonymised by ``scrub``."""
    r = item.result
    assert r.rejection is not None
    topic, detail, device = item.topic, r.rejection.detail, r.device_id
    # cut before scrubbing (a huge payload), with room for a MAC at the edge
    payload = item.payload[: MAX_STORED_PAYLOAD + 64]
    if scrub is not None:
        payload = scrub.payload(topic, payload)
        topic, detail = scrub.text(topic), scrub.text(detail)
        device = None if device is None else scrub.text(device)
    return RejectedRow(
        item.received_at,
        _no_nul(topic),
        payload[:MAX_STORED_PAYLOAD],
        r.rejection.reason,
        _no_nul(detail),
        None if device is None else _no_nul(device),
    )


def _note_health(health: Health, e: Event, received_at: dt.datetime) -> None:
    """Fold event ``e`` into its device's health row, as the upsert would."""
    h = health.get(e.device_id)
    if h is None:
        h = health[e.device_id] = HealthRow(received_at)
    elif received_at > h.last_seen:
        h.last_seen = received_at
    kind = e.kind
    if kind is Kind.BATTERY:
        h.battery_pct = e.value
    elif kind is Kind.AVAILABILITY:
        h.online = None if e.value is None else e.value > 0
    else:
        h.online = True


def _note_observed(
    item: Item,
    discovered: dict[str, Discovered],
    observed: dict[str, Observation],
    scrub: Scrubber | None,
) -> None:
    """Note the devices ``item`` announced and, for events of a device not
    placed in the building, what it reported (for ``occupancy devices``)."""
    r = item.result
    for d in r.discovered:
        discovered.setdefault(d.device_id, d)
        announce(observed, d, item.received_at)
    if r.kinds:  # events of a device not placed in the building
        observe(
            observed,
            item.topic,
            item.payload,
            item.received_at,
            r,
            (scrub or _ANONYMOUS).text,
        )


def _event_lines(
    decoded: Sequence[Event],
    devices: dict[str, DeviceInfo],
    received_at: dt.datetime,
    received_iso: str,
    events: list[str],
    badges: list[str],
    health: Health,
) -> None:
    """Append the COPY lines of the ``decoded`` events of one message to
    ``events`` / ``badges`` and fold them into ``health``."""
    for e in decoded:
        info = devices.get(e.device_id)
        # an arrival-stamped event's time is the arrival: format it once
        ts_iso = received_iso if e.ts == received_at else e.ts.isoformat()
        if e.kind is Kind.BADGE:
            badges.append(
                _badge_line(e, ts_iso, received_iso, info.zone_id if info else None)
            )
        else:
            events.append(
                _event_line(e, ts_iso, received_iso, info.covers if info else None)
            )
        _note_health(health, e, received_at)


def prepare(
    items: Sequence[Item],
    devices: dict[str, DeviceInfo],
    received: int,
    scrub: Scrubber | None = None,
) -> Batch:
    """The rows of ``items`` (``received`` messages taken from the broker).
    Values are validated ids, enums, numbers and ISO datetimes: no tab, newline
    or backslash can occur in the COPY text. Rejected rows are scrubbed of raw
    identifiers by ``scrub`` (:mod:`ingest.scrub`)."""
    res = BatchResult()
    events: list[str] = []
    badges: list[str] = []
    rejected: list[RejectedRow] = []
    discovered: dict[str, Discovered] = {}
    health: Health = {}
    arrivals: dict[int, _Arrival] = {}  # by mid; the latest position wins
    observed: dict[str, Observation] = {}
    for item in items:
        r = item.result
        if r.discovered or r.kinds:
            _note_observed(item, discovered, observed, scrub)
        if r.rejection is not None:
            reason = r.rejection.reason
            res.rejected += 1
            res.reasons[reason] = res.reasons.get(reason, 0) + 1
            if reason not in NOT_STORED:
                rejected.append(_rejected_row(item, scrub))
            continue
        if not r.events:
            res.ignored += 1
            continue
        res.accepted += 1
        received_at = item.received_at
        received_iso = received_at.isoformat()
        if item.digest is not None and item.position >= 0 and item.mid > 0:
            arrivals[item.mid] = _Arrival(item.position, item.digest, received_iso)
        _event_lines(
            r.events, devices, received_at, received_iso, events, badges, health
        )
    return Batch(
        items=items,
        received=received,
        counts=res,
        events="".join(events),
        n_events=len(events),
        badges="".join(badges),
        n_badges=len(badges),
        arrivals=_arrival_row(arrivals),
        rejected=rejected,
        discovered=sorted(discovered.values(), key=lambda d: d.device_id),
        health=health,
        observed=sorted(observed.values()),
    )


def merge_health(older: Health, newer: Health) -> None:
    """Fold ``newer`` into ``older`` in place, as successive upserts would:
    the latest ``last_seen``, the newest non-null battery and online state."""
    for dev, new in newer.items():
        old = older.get(dev)
        if old is None:
            older[dev] = HealthRow(new.last_seen, new.battery_pct, new.online)
            continue
        old.last_seen = max(old.last_seen, new.last_seen)
        if new.battery_pct is not None:
            old.battery_pct = new.battery_pct
        if new.online is not None:
            old.online = new.online


class HealthBuffer:
    """Device-health rows merged between writes: they are handed out at most
    every ``interval_s`` seconds [s] (0: with every batch), and all of them on
    :meth:`take` with ``force`` (at stop). Used by one thread only."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = max(0.0, float(interval_s))
        self.pending: Health = {}
        self._taken_at: float | None = None

    def add(self, health: Health) -> None:
        merge_health(self.pending, health)

    def take(self, now: float, *, force: bool = False) -> Health:
        """The merged rows if due at monotonic time ``now`` [s], else ``{}``."""
        due = force or self._taken_at is None or now - self._taken_at >= self.interval_s
        if not due or not self.pending:
            return {}
        rows, self.pending = self.pending, {}
        self._taken_at = now
        return rows

    def restore(self, rows: Health) -> None:
        """Put back rows whose write failed, under anything newer."""
        merged = {
            dev: HealthRow(r.last_seen, r.battery_pct, r.online)
            for dev, r in rows.items()
        }
        merge_health(merged, self.pending)
        self.pending = merged
