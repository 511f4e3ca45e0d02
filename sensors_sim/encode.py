"""Turn the message stream into what goes on the wire: topic, payload bytes,
retain flag, and each message's truth label (``expected``)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import pandas as pd

from occupancy.building import Site

from .devices import K_BATTERY, K_BLE, K_COUNT, K_HEARTBEAT, K_PRESENCE, K_STATUS, KINDS
from .faults import FAULTS, MALFORMED, Stream, malformed_expected
from .formats import ROW_ENCODERS

logger = logging.getLogger(__name__)

__all__ = ["MESSAGE_COLUMNS", "encode_stream"]

MESSAGE_COLUMNS = (
    "send_at",
    "topic",
    "payload",
    "retain",
    "device_id",
    "kind",
    "seq",
    "ts_true",
    "fault",
    "expected",
)


def _iso_ms(ts: np.ndarray) -> list[str]:
    return [
        s + "Z" for s in np.datetime_as_string(ts.astype("datetime64[ms]"), unit="ms")
    ]


def _own_payloads(st: Stream, idx: np.ndarray) -> np.ndarray:
    """Our own format (docs/mqtt-format.md), vectorized per kind. Heartbeats
    and counts carry epoch milliseconds, the others ISO 8601 (both allowed)."""
    out = np.empty(len(idx), dtype=object)
    kind = st.kind[idx]
    ts, seq, val = st.ts_device[idx], st.seq[idx], st.value[idx]
    tf_tab = (b"false", b"true")
    for k in (K_PRESENCE, K_HEARTBEAT, K_COUNT, K_BLE, K_BATTERY, K_STATUS):
        m = np.flatnonzero(kind == k)
        if not len(m):
            continue
        sq = seq[m].tolist()
        v = val[m]
        if k == K_STATUS:
            out[m] = [b"online" if x else b"offline" for x in v.tolist()]
            continue
        if k in (K_PRESENCE, K_HEARTBEAT):
            third = [tf_tab[x] for x in (v > 0).astype(np.int64).tolist()]
        elif k == K_BLE:
            bi = st.beacons[idx[m]]
            third = [st.bodies[b].encode() if b >= 0 else b"" for b in bi.tolist()]
        else:
            third = v.astype(np.int64).tolist()
        if k in (K_HEARTBEAT, K_COUNT):
            first: list[object] = ts[m].tolist()
        else:
            first = [t.encode() for t in _iso_ms(ts[m])]
        fmt = _FORMATS[k]
        out[m] = list(map(fmt.__mod__, zip(first, sq, third, strict=True)))
    return out


_FORMATS = {
    K_PRESENCE: b'{"ts":"%s","seq":%d,"occupied":%s}',
    K_HEARTBEAT: b'{"ts":%d,"seq":%d,"occupied":%s}',
    K_COUNT: b'{"ts":%d,"seq":%d,"count":%d}',
    K_BLE: b'{"ts":"%s","seq":%d,"beacons":[%s]}',
    K_BATTERY: b'{"ts":"%s","seq":%d,"battery":%d}',
}
#: families without a people-count convention: a count reads as presence
_PRESENCE_ONLY = ("zigbee2mqtt", "tasmota")

_FIELD = {K_PRESENCE: "occupied", K_HEARTBEAT: "occupied", K_COUNT: "count"}
_FIELD |= {K_BLE: "beacons", K_BATTERY: "battery"}


def _malform(payload: bytes, kind: int, variant: int) -> bytes:
    """Break a payload the way firmware bugs and radio errors do."""
    name = MALFORMED[variant][0]
    if name == "bad_json":
        return payload[: max(len(payload) // 2, 1)]
    text = payload.decode()
    head = text.split(f'"{_FIELD[kind]}":')[0]
    if name == "wrong_type":
        return (head + f'"{_FIELD[kind]}":"yes"}}').encode()
    if name == "nan":
        return (head + f'"{_FIELD[kind]}":NaN}}').encode()
    return (head.rstrip(",") + "}").encode()


def encode_stream(
    st: Stream, site: Site, topic_root: str, ctx: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The ``messages`` frame, sorted by ``send_at`` (ties: device, seq)."""
    ctx = {"tz": site.tz, **(ctx or {})}
    # Sort the numeric arrays first, so the big object columns are built in
    # their final order and never permuted.
    # rows come per device in seq order: a stable sort on (send_at, device)
    # keeps seq order among ties
    t_min = int(st.send_at.min()) if len(st.send_at) else 0
    order = np.argsort(((st.send_at - t_min) << 20) | st.device, kind="stable")
    fields = {
        f.name: getattr(st, f.name)[order]
        for f in dataclasses.fields(Stream)
        if f.name != "bodies"
    }
    st = Stream(**fields, bodies=st.bodies)
    devices = list(site.devices)
    dev_ids = np.array([d.id for d in devices], dtype=object)
    family = np.array([d.family for d in devices], dtype=object)
    n = len(st.device)
    own = family[st.device] == "occupancy"
    oi = np.flatnonzero(own)
    topics_tab = np.array(
        [[f"{topic_root}/{site.id}/{d}/{k}" for k in KINDS] for d in dev_ids],
        dtype=object,
    ).reshape(len(dev_ids), len(KINDS))
    # expected labels: kind:value, ble:<n beacons>, status:online|offline
    vmax = 1000
    code = st.kind * vmax + np.clip(np.nan_to_num(st.value), 0, vmax - 1).astype(
        np.int64
    )
    labels = [
        f"status:{'online' if v else 'offline'}" if k == K_STATUS else f"{KINDS[k]}:{v}"
        for k in range(len(KINDS))
        for v in range(vmax)
    ]
    expected = np.asarray(labels, dtype=object)[code]
    payload = np.empty(n, dtype=object)
    payload[oi] = _own_payloads(st, oi)
    topic = np.empty(n, dtype=object)
    topic[oi] = topics_tab[st.device[oi], st.kind[oi]]
    retain = st.kind == K_STATUS
    bad = np.flatnonzero(own & (st.malformed >= 0))
    for i in bad.tolist():
        payload[i] = _malform(payload[i], int(st.kind[i]), int(st.malformed[i]))
        expected[i] = malformed_expected(int(st.malformed[i]), int(st.kind[i]))
    rows = [np.flatnonzero(own)]
    extra: list[tuple[int, str, bytes, bool, str]] = []
    for i in np.flatnonzero(~own).tolist():
        k = int(st.kind[i])
        enc = ROW_ENCODERS[family[st.device[i]]]
        out = enc(
            dev_ids[st.device[i]],
            KINDS[k],
            int(st.ts_device[i]),
            float(st.value[i]),
            int(st.seq[i]),
            str(st.bodies[st.beacons[i]]) if st.beacons[i] >= 0 else "",
            ctx,
        )
        for t, p, r in out:
            exp = "ble:1" if len(out) > 1 or k == K_BLE else expected[i]
            if k == K_COUNT and family[st.device[i]] in _PRESENCE_ONLY:
                exp = f"presence:{int(st.value[i] > 0)}"
            body = p
            if st.malformed[i] >= 0:
                is_json = p.startswith(b"{")
                body = p[: max(len(p) // 2, 1)] if is_json else b"\xff"
                exp = "reject:bad_json" if is_json else "reject:bad_value"
            extra.append((i, t, body, r, exp))
    own_rows = rows[0]
    if not extra:
        return pd.DataFrame(
            {
                "send_at": pd.to_datetime(st.send_at, unit="ms", utc=True),
                "topic": topic,
                "payload": payload,
                "retain": retain,
                "device_id": dev_ids[st.device],
                "kind": np.asarray(KINDS, dtype=object)[st.kind],
                "seq": st.seq,
                "ts_true": pd.to_datetime(st.ts_true, unit="ms", utc=True),
                "fault": np.asarray(FAULTS, dtype=object)[st.fault],
                "expected": expected,
            }
        )
    ei = np.array([e[0] for e in extra], dtype=np.int64)
    idx = np.r_[own_rows, ei].astype(np.int64)
    df = pd.DataFrame(
        {
            "send_at": pd.to_datetime(st.send_at[idx], unit="ms", utc=True),
            "topic": np.r_[
                topic[own_rows], np.array([e[1] for e in extra], dtype=object)
            ],
            "payload": np.r_[
                payload[own_rows], np.array([e[2] for e in extra], dtype=object)
            ],
            "retain": np.r_[
                retain[own_rows], np.array([e[3] for e in extra], dtype=bool)
            ],
            "device_id": dev_ids[st.device[idx]],
            "kind": np.asarray(KINDS, dtype=object)[st.kind[idx]],
            "seq": st.seq[idx],
            "ts_true": pd.to_datetime(st.ts_true[idx], unit="ms", utc=True),
            "fault": np.asarray(FAULTS, dtype=object)[st.fault[idx]],
            "expected": np.r_[
                expected[own_rows], np.array([e[4] for e in extra], dtype=object)
            ],
        }
    )
    # family encoders may add rows (one per beacon): restore the order
    final = np.lexsort((df["seq"].to_numpy(), st.device[idx], st.send_at[idx]))
    return df.iloc[final].reset_index(drop=True)
