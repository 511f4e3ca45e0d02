"""What the devices observe and report, before faults and encoding: one row per
message with the device, kind, true instant and value. Desk sensors (state
changes + heartbeat, detection delay, hold time, missed detections), room/zone
counters (on change and periodically while non-zero, with counting error), BLE
scanners (one message per scan window with badges seen) and battery reports.

Times here are int64 milliseconds since the epoch (UTC)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .payloads import BLOCK_ROWS
from .scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = ["KINDS", "Period", "Raw", "Stays", "concat_raw"]

KINDS = ("presence", "heartbeat", "count", "ble", "battery", "status")
K_PRESENCE, K_HEARTBEAT, K_COUNT, K_BLE, K_BATTERY, K_STATUS = range(6)


class Stays(NamedTuple):
    """True stays: where (a desk or device index), from, to [ms]."""

    at: np.ndarray
    start_ms: np.ndarray
    end_ms: np.ndarray


class Period(NamedTuple):
    """The simulated period [t0, t1) [ms]."""

    t0: int
    t1: int


@dataclass
class Raw:
    """Messages as arrays. ``value``: presence/heartbeat 1/0, count, battery,
    ble number of beacons, status 1 online / 0 offline. ``beacons`` indexes
    ``bodies`` (the JSON array body of a ble message), -1 for other kinds; the
    index keeps the big arrays numeric while they are sorted and filtered."""

    device: np.ndarray
    kind: np.ndarray
    ts: np.ndarray  # int64 [ms]
    value: np.ndarray  # float
    beacons: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    bodies: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    def __len__(self) -> int:
        return len(self.device)


def make_raw(
    device: np.ndarray, kind: int | np.ndarray, ts: np.ndarray, value: np.ndarray
) -> Raw:
    n = len(device)
    return Raw(  # copy=False: no second copy of arrays already of that dtype
        device.astype(np.int64, copy=False),
        np.broadcast_to(np.asarray(kind, dtype=np.int64), (n,)).copy(),
        ts.astype(np.int64, copy=False),
        value.astype(float, copy=False),
        np.full(n, -1, dtype=np.int64),
    )


def concat_raw(parts: list[Raw]) -> Raw:
    cols = ("device", "kind", "ts", "value")
    out = Raw(*(np.concatenate([getattr(p, f) for p in parts]) for f in cols))
    offsets = np.cumsum([0] + [len(p.bodies) for p in parts])[:-1]
    out.beacons = np.concatenate(
        [
            np.where(p.beacons >= 0, p.beacons + off, -1)
            for p, off in zip(parts, offsets, strict=True)
        ]
    )
    out.bodies = np.concatenate([p.bodies for p in parts])
    return out


def _runs(
    key: np.ndarray, t: np.ndarray, step: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spans per key where the running sum of ``step`` is ≥ 1: (key, start, end)."""
    if not len(key):
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    o = np.lexsort((t, key))
    k, tt, s = key[o], t[o], step[o]
    level = np.cumsum(s)
    last = np.r_[(k[1:] != k[:-1]) | (tt[1:] != tt[:-1]), True]
    k, tt, on = k[last], tt[last], level[last] >= 1
    prev_on = np.r_[False, on[:-1]] & np.r_[False, k[1:] == k[:-1]]
    rise = on & ~prev_on
    fall = ~on & prev_on
    return k[rise], tt[rise], tt[fall]


def desk_sensor_states(
    dev: np.ndarray,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    sc: Scenario,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What desk sensors believe: occupied spans per device (device, on, off).

    Each true stay is reported after a detection delay, ends after the PIR hold
    time, and may be cut by missed detections (a person sitting still)."""
    s = sc.sensors
    n = len(dev)
    on = start_ms + np.round(rng.uniform(*s.detection_delay_s, n) * 1000)
    off = end_ms + np.round(rng.uniform(*s.vacancy_hold_s, n) * 1000)
    hours = (end_ms - start_ms) / 3.6e6
    n_gap = rng.poisson(s.missed_detection_per_hour * np.maximum(hours, 0))
    gi = np.repeat(np.arange(n), n_gap)
    glen = np.round(rng.uniform(*s.missed_detection_min, len(gi)) * 60_000)
    room = np.maximum(off[gi] - on[gi] - glen, 0)
    g0 = on[gi] + np.round(rng.random(len(gi)) * room)
    g1 = np.minimum(g0 + glen, off[gi])
    keep = on < off
    key = np.r_[dev[keep], dev[keep], dev[gi], dev[gi]]
    t = np.r_[on[keep], off[keep], g0, g1].astype(np.int64)
    step = np.r_[
        np.ones(keep.sum()), -np.ones(keep.sum()), -np.ones(len(gi)), np.ones(len(gi))
    ].astype(np.int64)
    return _runs(key.astype(np.int64), t, step)


def state_at(
    run_dev: np.ndarray,
    run_on: np.ndarray,
    run_off: np.ndarray,
    dev: np.ndarray,
    t: np.ndarray,
    t0: int,
) -> np.ndarray:
    """1.0 where device ``dev`` is in an occupied span at ``t`` [ms], else 0.0."""
    shift = np.int64(1) << 37
    rk = run_dev * shift + (run_on - t0)
    q = dev * shift + (t - t0)
    i = np.searchsorted(rk, q, side="right") - 1
    ii = np.maximum(i, 0)
    hit = (i >= 0) & (run_dev[ii] == dev) & (run_off[ii] > t) if len(rk) else i < -1
    return np.asarray(hit, dtype=float)


def periodic(
    devices: np.ndarray, t0: int, t1: int, period_ms: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Instants k·period + phase in [t0, t1) for each device (random phase)."""
    phase = np.round(rng.random(len(devices)) * period_ms).astype(np.int64)
    n = (t1 - t0 - phase + period_ms - 1) // period_ms
    n = np.maximum(n, 0)
    d = np.repeat(devices, n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return d, t0 + np.repeat(phase, n) + k * period_ms


def desk_messages(
    dev_of_desk: np.ndarray,
    stays: Stays,
    stuck: np.ndarray,
    desk_devices: np.ndarray,
    period: Period,
    sc: Scenario,
    rng: np.random.Generator,
) -> Raw:
    """Presence on every state change, heartbeat with the current state
    (``stays.at``: the desk)."""
    t0, t1 = period
    dev = dev_of_desk[stays.at]
    has = dev >= 0
    rd, ron, roff = desk_sensor_states(
        dev[has], stays.start_ms[has], stays.end_ms[has], sc, rng
    )
    ok = ~stuck[rd]
    rd, ron, roff = rd[ok], ron[ok], np.minimum(roff[ok], t1)
    ons, offs = ron < t1, roff < t1
    stuck_devs = desk_devices[stuck[desk_devices]]
    pres = make_raw(
        np.r_[rd[ons], rd[offs], stuck_devs],
        K_PRESENCE,
        np.r_[ron[ons], roff[offs], np.full(len(stuck_devs), t0 + 1000)],
        np.r_[np.ones(ons.sum()), np.zeros(offs.sum()), np.ones(len(stuck_devs))],
    )
    hd, ht = periodic(desk_devices, t0, t1, sc.sensors.desk_heartbeat_s * 1000, rng)
    hv = state_at(rd, ron, roff, hd, ht, t0)
    hv[stuck[hd]] = 1.0
    return concat_raw([pres, make_raw(hd, K_HEARTBEAT, ht, hv)])


def counter_messages(
    dev: np.ndarray,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    people: np.ndarray,
    sc: Scenario,
    rng: np.random.Generator,
) -> Raw:
    """Counts: on every change (incl. back to 0) and every period while > 0.
    ``dev``/``start_ms``/``end_ms``/``people`` are the true non-zero runs."""
    o = np.lexsort((start_ms, dev))
    dev, start_ms, end_ms, people = dev[o], start_ms[o], end_ms[o], people[o]
    period = sc.sensors.counter_period_s * 1000
    n = np.maximum((end_ms - start_ms - 1) // period, 0)
    pi = np.repeat(np.arange(len(dev)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 1
    nxt_same = np.zeros(len(dev), dtype=bool)
    nxt_same[:-1] = (dev[1:] == dev[:-1]) & (start_ms[1:] == end_ms[:-1])
    zero = ~nxt_same
    d = np.r_[dev, dev[pi], dev[zero]]
    t = np.r_[start_ms, start_ms[pi] + k * period, end_ms[zero]]
    v = np.r_[people, people[pi], np.zeros(zero.sum())].astype(float)
    err = rng.random(len(v)) < sc.sensors.count_error_share
    v = np.where(err, np.maximum(v + rng.choice([-1.0, 1.0], len(v)), 0), v)
    return make_raw(d, K_COUNT, t, v)


def ble_messages(
    stays: Stays,
    badge: np.ndarray,
    scanners: np.ndarray,
    period: Period,
    sc: Scenario,
    rng: np.random.Generator,
) -> Raw:
    """One message per scan window with the badges present at the window's
    middle (listed with RSSI), plus an empty one every idle period otherwise
    (``stays.at``: the scanner device)."""
    dev, start_ms, end_ms = stays
    t0, t1 = period
    w = sc.sensors.ble_scan_window_s * 1000
    half = w // 2
    k_lo = -(-(start_ms - t0 - half) // w)
    k_hi = -(-(end_ms - t0 - half) // w) - 1
    n = np.maximum(k_hi - k_lo + 1, 0)
    si = np.repeat(np.arange(len(dev)), n)
    k = np.repeat(k_lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    # badges as codes in sorted order (sorting codes = sorting the ids)
    badge_ids, badge_code = np.unique(badge.astype(str), return_inverse=True)
    sd, sb = dev[si], badge_code.reshape(-1)[si]
    end_t = t0 + (k + 1) * w
    keep = end_t <= t1
    sd, sb, k = sd[keep], sb[keep], k[keep]
    o = np.lexsort((sb, k, sd))
    sd, sb, k = sd[o], sb[o], k[o]
    mu, sigma = sc.sensors.rssi_dbm
    rssi = np.clip(np.round(rng.normal(mu, sigma, len(sd))), -100, -30).astype(int)
    first = np.ones(len(sd), dtype=bool)
    first[1:] = (sd[1:] != sd[:-1]) | (k[1:] != k[:-1])
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(sd)] if len(starts) else starts
    body = _beacon_bodies(badge_ids, sb, rssi, starts, ends)
    md, mk = sd[starts], k[starts]
    seen = make_raw(md, K_BLE, t0 + (mk + 1) * w, (ends - starts).astype(float))
    seen.beacons = np.arange(len(body), dtype=np.int64)
    seen.bodies = body
    # idle reports on the idle grid where nothing was seen
    every = max(sc.sensors.ble_idle_report_s * 1000 // w, 1)
    n_win = (t1 - t0) // w
    ik = np.arange(every - 1, n_win, every)
    idev = np.repeat(scanners, len(ik))
    ikk = np.tile(ik, len(scanners))
    shift = np.int64(1) << 32
    taken = np.isin(idev * shift + ikk, md * shift + mk)
    idle = make_raw(
        idev[~taken], K_BLE, t0 + (ikk[~taken] + 1) * w, np.zeros((~taken).sum())
    )
    return concat_raw([seen, idle])


def _beacon_bodies(
    badge_ids: np.ndarray,
    badge: np.ndarray,
    rssi: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
) -> np.ndarray:
    """JSON array bodies ``{"id":"<badge>","rssi":<dBm>},...`` of each message
    (sightings ``starts[i]:ends[i]``). Each sighting is a row of a zero-padded
    byte matrix; dropping the padding gives all fragments back to back, cut
    into one ``str`` per message (no Python object per sighting)."""
    ids = np.asarray(badge_ids).astype("S")
    w_id = ids.dtype.itemsize
    a = np.frombuffer(b'{"id":"', np.uint8)
    b = np.frombuffer(b'","rssi":-', np.uint8)
    c = np.frombuffer(b"},", np.uint8)
    width = len(a) + w_id + len(b) + 3 + len(c)
    parts: list[bytes] = []
    lens: list[np.ndarray] = []
    for lo in range(0, len(badge), BLOCK_ROWS):
        bb = badge[lo : lo + BLOCK_ROWS]
        r = -rssi[lo : lo + BLOCK_ROWS].astype(np.int64)  # 30..100
        m = np.zeros((len(bb), width), dtype=np.uint8)
        col = len(a)
        m[:, :col] = a
        m[:, col : col + w_id] = ids[bb].view(np.uint8).reshape(len(bb), w_id)
        col += w_id
        m[:, col : col + len(b)] = b
        col += len(b)
        dig = (r[:, None] // np.array([100, 10, 1])) % 10 + 48
        dig[:, 0] = np.where(r >= 100, dig[:, 0], 0)  # no leading zero
        m[:, col : col + 3] = dig
        m[:, col + 3 :] = c
        nz = m != 0
        parts.append(m[nz].tobytes())
        lens.append(nz.sum(axis=1))
    big = b"".join(parts)
    off = np.r_[0, np.cumsum(np.concatenate(lens) if lens else [])].astype(np.int64)
    body = np.empty(len(starts), dtype=object)
    body[:] = [
        big[i : j - 1].decode()
        for i, j in zip(off[starts].tolist(), off[ends].tolist(), strict=True)
    ]
    return body


def battery_messages(
    devices: np.ndarray,
    drain: np.ndarray,
    t0: int,
    t1: int,
    sc: Scenario,
    rng: np.random.Generator,
) -> Raw:
    """Battery level [%] every report period; draining devices lose
    ``faults.battery_drain_pct_per_day`` instead of the normal rate."""
    d, t = periodic(devices, t0, t1, sc.sensors.battery_report_s * 1000, rng)
    level0 = rng.uniform(60, 100, len(devices))
    rate = np.where(
        drain, sc.faults.battery_drain_pct_per_day, sc.sensors.battery_drain_pct_per_day
    )
    pos = np.searchsorted(devices, d)
    v = np.clip(np.round(level0[pos] - rate[pos] * (t - t0) / 86.4e6), 0, 100)
    return make_raw(d, K_BATTERY, t, v)
