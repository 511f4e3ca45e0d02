"""What every family decoder shares: the result type and event helpers."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ingest.context import DecodeContext, Discovered
from ingest.payload import as_bool, as_number
from ingest.timestamps import resolve_ts
from occupancy.device_ids import device_id_problem
from occupancy.events import Event, Kind, Rejection, TsSource
from occupancy.pseudonym import pseudonymise

logger = logging.getLogger(__name__)

__all__ = ["Decoded", "FamilyDecoder", "Stamp", "badge_event", "presence_events"]


@dataclass(frozen=True)
class Decoded:
    """A family decoder's answer: events (possibly none: nothing to store),
    devices it announced, or a rejection."""

    events: tuple[Event, ...] = ()
    rejection: Rejection | None = None
    discovered: tuple[Discovered, ...] = ()
    device_id: str | None = None
    #: Why a message without events carries nothing to store (for people:
    #: ``occupancy decode``), e.g. "bridge log message".
    note: str = ""
    #: Kinds and family of events dropped because the device is not placed in
    #: the building (``unknown_device``/``unassigned_device``): shown to the
    #: installer on the Devices page, never stored as events.
    kinds: tuple[str, ...] = ()
    family: str = ""

    @staticmethod
    def nothing(note: str, device_id: str | None = None) -> Decoded:
        """A message understood that carries nothing to store, and why."""
        return Decoded(device_id=device_id, note=note)

    @staticmethod
    def refuse(reason: str, detail: str = "", device_id: str | None = None) -> Decoded:
        return Decoded(rejection=Rejection(reason, detail), device_id=device_id)


#: ``(topic, payload, received_at, ctx) -> Decoded``
FamilyDecoder = Callable[[str, bytes, dt.datetime, DecodeContext], Decoded]


@dataclass
class Stamp:
    """Device, time and sequence shared by the events of one message."""

    device_id: str
    ts: dt.datetime
    ts_source: TsSource
    family: str
    seq: int = -1
    events: list[Event] = field(default_factory=list)

    def add(self, kind: Kind, value: float | None) -> None:
        self.events.append(
            Event(
                ts=self.ts,
                device_id=self.device_id,
                kind=kind,
                value=value,
                seq=self.seq,
                ts_source=self.ts_source,
                family=self.family,
            )
        )

    def add_bool(self, kind: Kind, raw: object, field_name: str) -> Rejection | None:
        """A presence/availability event from a boolean-ish value."""
        b = as_bool(raw)
        if isinstance(b, Rejection):
            return Rejection("bad_value", f"{field_name}: {b.detail}")
        self.add(kind, None if b is None else float(b))
        return None

    def add_battery(self, raw: object) -> None:
        """Battery [%] when it is a plausible percentage; volts are skipped."""
        pct = as_number(raw)
        if pct is not None and 0 <= pct <= 100:
            self.add(Kind.BATTERY, pct)

    def done(self, note: str = "") -> Decoded:
        """The events so far; ``note`` says why there are none, if none."""
        return Decoded(
            events=tuple(self.events),
            device_id=self.device_id,
            note="" if self.events else note or "no occupancy data in this message",
        )


def stamp(
    device_id: str,
    ts_value: object,
    received_at: dt.datetime,
    ctx: DecodeContext,
    family: str,
    seq: int = -1,
) -> Stamp | Decoded:
    """A :class:`Stamp`, or a refusal when device id or timestamp is bad."""
    if ctx.device_override is not None:
        device_id = ctx.device_override
    problem = device_id_problem(device_id)
    if problem is not None:
        return Decoded.refuse(
            "bad_device_id", f"device id {device_id[:80]!r} {problem}"
        )
    resolved = resolve_ts(ts_value, received_at, ctx.tz, ctx.max_clock_skew_s)
    if isinstance(resolved, Rejection):
        return Decoded(rejection=resolved, device_id=device_id)
    ts, source = resolved
    return Stamp(device_id, ts, source, family, seq)


def badge_event(
    st: Stamp, raw_id: str, rssi: object, ctx: DecodeContext
) -> Event | Rejection:
    """A badge sighting with the id pseudonymised (raw id never leaves here)."""
    if not ctx.pseudonym_key:
        return Rejection("no_pseudonym_key", "badge ids need OCCUPANCY_PSEUDONYM_KEY")
    if not raw_id or len(raw_id) > 128:
        return Rejection("bad_value", "badge id empty or longer than 128 characters")
    r = as_number(rssi)
    if r is not None and not -200 <= r <= 20:
        return Rejection("bad_value", f"rssi {r} dBm out of range")
    return Event(
        ts=st.ts,
        device_id=st.device_id,
        kind=Kind.BADGE,
        value=None,
        seq=st.seq,
        badge=pseudonymise(ctx.pseudonym_key, raw_id),
        rssi=r,
        ts_source=st.ts_source,
        family=st.family,
    )


def presence_events(
    st: Stamp, obj: Mapping[str, object], keys: tuple[str, ...]
) -> Rejection | None:
    """Presence from the first of ``keys`` present in ``obj`` (null = unknown)."""
    for key in keys:
        if key in obj:
            return st.add_bool(Kind.PRESENCE, obj[key], key)
    return None
