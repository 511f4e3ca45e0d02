"""Faults on the message stream, each at its scenario rate, each labelled.

Per device: clock skew, stuck desk sensor, battery drain. Per device-day:
offline periods (retained ``status`` offline, silence, then online). Per
message (among fault-free data messages): malformed, late, out-of-order, and
duplicate deliveries (an extra copy)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .devices import K_STATUS, Raw, make_raw
from .scenario import Faults, Scenario

logger = logging.getLogger(__name__)

__all__ = ["FAULTS", "MALFORMED", "Stream", "apply_faults", "malformed_expected"]

#: fault labels of the ``messages`` truth table (index = code)
FAULTS = (
    "none",
    "duplicate",
    "late",
    "out_of_order",
    "clock_skew",
    "malformed",
    "offline",
    "stuck",
    "battery_drain",
)
F = {name: i for i, name in enumerate(FAULTS)}
#: malformed payload variants and the rejection the ingester should give
MALFORMED = (
    ("bad_json", "reject:bad_json"),
    ("wrong_type", "reject:bad_value"),
    ("nan", "reject:non_finite_number"),
    ("missing_field", "reject:missing_field"),
)
#: exceptions per (variant, kind code): a ``ble`` whose ``beacons`` is not a
#: list lacks its list; a ``count`` without ``count`` has no valid value
_EXPECTED_BY_KIND = {(1, 3): "reject:missing_field", (3, 2): "reject:bad_value"}


def malformed_expected(variant: int, kind: int) -> str:
    """The rejection ``reject:<reason>`` a malformed payload should get."""
    return _EXPECTED_BY_KIND.get((variant, kind), MALFORMED[variant][1])


@dataclass
class Stream:
    """The final message rows (arrays of equal length)."""

    device: np.ndarray
    kind: np.ndarray
    ts_true: np.ndarray  # [ms] the instant observed
    ts_device: np.ndarray  # [ms] what the device clock says
    send_at: np.ndarray  # [ms] when to publish
    value: np.ndarray
    beacons: np.ndarray  # index into bodies, -1 = none
    seq: np.ndarray
    fault: np.ndarray  # code into FAULTS
    malformed: np.ndarray  # -1 or index into MALFORMED
    bodies: np.ndarray  # JSON array bodies of ble messages


def offline_periods(
    n_devices: int, t0: int, days: int, sc: Scenario, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(device, start, end) [ms] of offline periods, at most one per device-day."""
    hit = rng.random((n_devices, days)) < sc.faults.offline
    dev, day = np.nonzero(hit)
    length = np.round(rng.uniform(*sc.faults.offline_min, len(dev)) * 60_000)
    start = t0 + day * 86_400_000 + np.round(rng.random(len(dev)) * 86_400_000)
    return (
        dev.astype(np.int64),
        start.astype(np.int64),
        (start + length).astype(np.int64),
    )


def apply_faults(
    raw: Raw,
    n_devices: int,
    stuck: np.ndarray,
    drain: np.ndarray,
    t0: int,
    days: int,
    sc: Scenario,
    rng: np.random.Generator,
) -> Stream:
    f = sc.faults
    allr, fault, bodies = _with_status(raw, n_devices, t0, days, sc, rng)
    del raw
    fault = _sort_by_device_time(allr, fault, t0)
    n = len(allr)
    first = np.r_[True, allr.device[1:] != allr.device[:-1]]
    starts = np.flatnonzero(first)
    seq = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    data = allr.kind != K_STATUS
    ts_device = _device_faults(allr, fault, data, stuck, drain, n_devices, f, rng)
    send_at, malformed, di = _message_faults(allr, fault, data, f, rng)
    del data

    def grow(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, a[di]])

    for c in _COLS:  # one column at a time: the old one is freed right away
        setattr(allr, c, grow(getattr(allr, c)))
    extra = np.round(rng.uniform(50, 2_000, len(di))).astype(np.int64)
    out_send = np.concatenate([send_at, send_at[di] + extra])
    del send_at
    out_fault = np.r_[fault, np.full(len(di), F["duplicate"])].astype(np.int8)
    return Stream(
        allr.device,
        allr.kind,
        allr.ts,
        grow(ts_device),
        out_send,
        allr.value,
        allr.beacons,
        grow(seq),
        out_fault,
        grow(malformed).astype(np.int8),
        bodies,
    )


_COLS = ("device", "kind", "ts", "value", "beacons")


def _with_status(
    raw: Raw, n_devices: int, t0: int, days: int, sc: Scenario, rng: np.random.Generator
) -> tuple[Raw, np.ndarray, np.ndarray]:
    """``raw`` with the status messages added (each device online at ``t0``;
    offline periods: what the device would have said dropped, LWT + online
    added), their fault codes and the message bodies."""
    od, os_, oe = offline_periods(n_devices, t0, days, sc, rng)
    if len(od):
        _drop_offline(raw, od, os_, oe, t0)
    devs = np.arange(n_devices, dtype=np.int64)
    status = make_raw(
        np.r_[devs, od, od],
        K_STATUS,
        np.r_[np.full(n_devices, t0), os_, oe],
        np.r_[np.ones(n_devices), np.zeros(len(od)), np.ones(len(od))],
    )
    s_fault = np.r_[np.zeros(n_devices), np.full(2 * len(od), F["offline"])]
    allr = Raw(*(np.concatenate([getattr(raw, c), getattr(status, c)]) for c in _COLS))
    fault = np.r_[np.zeros(len(raw)), s_fault].astype(np.int64)
    return allr, fault, raw.bodies


def _sort_by_device_time(allr: Raw, fault: np.ndarray, t0: int) -> np.ndarray:
    """Sort ``allr`` in place by (device, ts, status last); ``fault`` sorted."""
    # one int64 key (device, ts, status last) sorts much faster than lexsort
    key = (allr.device << 40) | ((allr.ts - t0) << 1) | (allr.kind == K_STATUS)
    o = np.argsort(key, kind="stable")
    del key
    for c in _COLS:
        setattr(allr, c, getattr(allr, c)[o])
    return fault[o]


def _drop_offline(
    raw: Raw, od: np.ndarray, os_: np.ndarray, oe: np.ndarray, t0: int
) -> None:
    """Remove (in place) the messages of ``raw`` inside a device's offline
    period (device ``od``, from ``os_`` to ``oe`` [ms])."""
    shift = np.int64(1) << 40
    okey = od * shift + (os_ - t0)
    o = np.argsort(okey)
    okey, oe_s = okey[o], oe[o]
    q = raw.device * shift + (raw.ts - t0)
    i = np.searchsorted(okey, q, side="right") - 1
    ii = np.maximum(i, 0)
    inside = (i >= 0) & (od[o][ii] == raw.device) & (oe_s[ii] > raw.ts)
    keep = ~inside
    for c in _COLS:
        setattr(raw, c, getattr(raw, c)[keep])  # frees each old column


def _device_faults(
    allr: Raw,
    fault: np.ndarray,
    data: np.ndarray,
    stuck: np.ndarray,
    drain: np.ndarray,
    n_devices: int,
    f: Faults,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mark battery-drain, stuck and clock-skew messages in ``fault`` (in
    place); the device clock's timestamps (skewed ones shifted) [ms]."""
    skew_dev = rng.random(n_devices) < f.clock_skew
    skew = (
        np.where(
            skew_dev,
            rng.uniform(*f.clock_skew_s, n_devices)
            * rng.choice([-1, 1], n_devices)
            * 1000,
            0,
        )
        .round()
        .astype(np.int64)
    )
    fault[data & drain[allr.device] & (allr.kind == 4)] = F["battery_drain"]
    fault[data & stuck[allr.device] & (allr.kind <= 1)] = F["stuck"]
    fault[data & (fault == 0) & skew_dev[allr.device]] = F["clock_skew"]
    ts_device: np.ndarray = allr.ts + np.where(data, skew[allr.device], 0)
    return ts_device


def _message_faults(
    allr: Raw, fault: np.ndarray, data: np.ndarray, f: Faults, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-message faults among fault-free data messages, marked in ``fault``
    (in place): (send times [ms], malformed variant or -1, rows duplicated)."""
    n = len(allr)
    latency = np.round(rng.uniform(20, 400, n)).astype(np.int64)
    send_at = allr.ts + latency
    eligible = data & (fault == 0)
    u = rng.random(n)
    mal = eligible & (u < f.malformed)
    late = eligible & (u >= f.malformed) & (u < f.malformed + f.late)
    lo = f.malformed + f.late
    ooo = eligible & (u >= lo) & (u < lo + f.out_of_order)
    ooo[1:] &= ~ooo[:-1]  # the message it overtakes must not move itself
    fault[mal], fault[late], fault[ooo] = F["malformed"], F["late"], F["out_of_order"]
    malformed = np.full(n, -1, dtype=np.int64)
    malformed[mal] = rng.integers(0, len(MALFORMED), mal.sum())
    # a heartbeat without ``occupied`` is valid (state unknown): break its type
    malformed[(malformed == 3) & (allr.kind == 1)] = 1
    send_at[late] += np.round(rng.uniform(*f.late_min, late.sum()) * 60_000).astype(
        np.int64
    )
    nxt = np.r_[send_at[1:], 0]
    same = np.r_[allr.device[1:] == allr.device[:-1], False]
    bump = np.round(rng.uniform(1_000, 30_000, n)).astype(np.int64)
    send_at = np.where(ooo, np.where(same, nxt, send_at + 60_000) + bump, send_at)
    # Duplicate deliveries: an extra copy shortly after.
    dup = eligible & ~ooo & ~late & ~mal & (rng.random(n) < f.duplicate)
    return send_at, malformed, np.flatnonzero(dup)
