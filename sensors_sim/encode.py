"""Turn the message stream into what goes on the wire: topic, payload bytes,
retain flag, and each message's truth label (``expected``)."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from occupancy.building import Site

from .devices import K_BATTERY, K_BLE, K_COUNT, K_HEARTBEAT, K_PRESENCE, K_STATUS, KINDS
from .faults import FAULTS, MALFORMED, Stream, malformed_expected
from .formats import ROW_ENCODERS, EncodeContext, EncodeOptions
from .payloads import Choice, Digits, Fixed, Piece, format_rows, iso_ms

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


def _own_payloads(st: Stream, idx: np.ndarray) -> np.ndarray:
    """Our own format (docs/mqtt-format.md), vectorized per kind, for rows
    ``idx`` in that order. Heartbeats and counts carry epoch milliseconds, the
    others ISO 8601 (both allowed)."""
    out = np.empty(len(idx), dtype=object)
    kind = st.kind[idx]
    for k in (K_PRESENCE, K_HEARTBEAT, K_COUNT, K_BLE, K_BATTERY, K_STATUS):
        m = np.flatnonzero(kind == k)
        if not len(m):
            continue
        rows = idx[m]
        v = st.value[rows]
        if k == K_STATUS:
            on = (v > 0).astype(np.int64)
            out[m] = format_rows([Choice(on, _STATUS)], len(m))
            continue
        ts = st.ts_device[rows]
        first: Piece = Digits(ts) if k in (K_HEARTBEAT, K_COUNT) else Fixed(iso_ms(ts))
        quote = b"" if k in (K_HEARTBEAT, K_COUNT) else b'"'
        head: list[Piece] = [b'{"ts":' + quote, first, quote + b',"seq":']
        head.append(Digits(st.seq[rows]))
        if k == K_BLE:
            # variable-length bodies: fewer rows, plain concatenation
            bi = st.beacons[rows]
            bodies = [st.bodies[b].encode() if b >= 0 else b"" for b in bi.tolist()]
            pre = format_rows([*head, b',"beacons":['], len(m)).tolist()
            out[m] = [a + b + b"]}" for a, b in zip(pre, bodies, strict=True)]
            continue
        if k in (K_PRESENCE, K_HEARTBEAT):
            third: Piece = Choice((v > 0).astype(np.int64), (b"false", b"true"))
        else:
            third = Digits(np.maximum(v, 0).astype(np.int64))
        tail: list[Piece] = [b',"' + _FIELD[k].encode() + b'":', third, b"}"]
        out[m] = format_rows([*head, *tail], len(m))
    return out


_STATUS = (b"offline", b"online")
_FORMATS = {
    K_PRESENCE: b'{"ts":"%s","seq":%d,"occupied":%s}',
    K_HEARTBEAT: b'{"ts":%d,"seq":%d,"occupied":%s}',
    K_COUNT: b'{"ts":%d,"seq":%d,"count":%d}',
    K_BLE: b'{"ts":"%s","seq":%d,"beacons":[%s]}',
    K_BATTERY: b'{"ts":"%s","seq":%d,"battery":%d}',
}
#: families without a people-count convention: a count reads as presence
_PRESENCE_ONLY = (
    "zigbee2mqtt",
    "tasmota",
    "shelly",
    "pressac",
    "homeassistant",
    "mqtt",
)

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


def _utc_ms(ms: np.ndarray) -> pd.Series:
    """Epoch milliseconds as a ``datetime64[ns, UTC]`` column (no parsing)."""
    ns = ms.astype("datetime64[ms]").astype("datetime64[ns]")
    return pd.Series(pd.DatetimeIndex(ns).tz_localize("UTC"))


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical[str]:
    """Strings as a categorical (small codes instead of object pointers),
    without the categories no row uses (a bincount, not a sort)."""
    used = np.bincount(codes, minlength=len(categories)) > 0
    remap = (np.cumsum(used) - 1).astype(np.int32)
    kept = [c for c, u in zip(categories, used.tolist(), strict=True) if u]
    cat: pd.Categorical[str] = pd.Categorical.from_codes(
        remap[codes], categories=pd.Index(kept), validate=False
    )
    return cat


class _Codes:
    """Growing code tables of topics and expected labels (text -> code)."""

    def __init__(self, topics: list[str], labels: list[str]) -> None:
        self.topics = topics
        self.topic_code = {t: i for i, t in enumerate(topics)}
        # status labels repeat (any value > 0 is online): one code per label
        self.label_code: dict[str, int] = {}
        self.lut = np.array(
            [self.label_code.setdefault(x, len(self.label_code)) for x in labels]
        )
        self.labels = list(self.label_code)

    def label(self, text: str) -> int:
        return self._code(self.label_code, self.labels, text)

    def topic(self, text: str) -> int:
        return self._code(self.topic_code, self.topics, text)

    @staticmethod
    def _code(table: dict[str, int], names: list[str], text: str) -> int:
        c = table.get(text)
        if c is None:
            c = table[text] = len(names)
            names.append(text)
        return c


def encode_stream(
    st: Stream, site: Site, topic_root: str, ctx: EncodeOptions | None = None
) -> pd.DataFrame:
    """The ``messages`` frame, sorted by ``send_at`` (ties: device, seq).

    ``payload`` holds ``bytes``; ``topic``, ``device_id``, ``kind``, ``fault``
    and ``expected`` are categoricals of ``str`` (compare and ``.str`` as usual)."""
    full = EncodeContext(tz=site.tz, **(ctx or {}))
    _sort_by_send_time(st)
    dev_ids = [d.id for d in site.devices]
    family = np.array([d.family for d in site.devices], dtype=object)
    own = (family == "occupancy")[st.device]
    oi = np.flatnonzero(own)
    codes = _stream_codes(dev_ids, site.id, topic_root)
    clipped = np.clip(np.nan_to_num(st.value), 0, _VMAX - 1).astype(np.int64)
    expected = codes.lut[st.kind * _VMAX + clipped].astype(np.int32)
    del clipped
    topic = (st.device * len(KINDS) + st.kind).astype(np.int32)
    retain = st.kind == K_STATUS
    payload_own = _own_payloads(st, oi)
    _malform_own(st, own, oi, payload_own, expected, codes)
    outs = _other_family_rows(st, ~own, family, dev_ids, expected, codes, full)
    # what only the payloads needed: free it before the frame is built
    empty = np.zeros(0, dtype=np.int64)
    st.ts_device = st.value = st.beacons = st.malformed = empty
    st.bodies = np.zeros(0, dtype=object)
    rows = _Rows(len(st.device), oi, outs)
    payload = rows.payloads(payload_own)
    del payload_own
    topic_o, retain_o, expected_o = (
        rows.take(topic),
        rows.take(retain),
        rows.take(expected),
    )
    for i, rows_i in outs.items():
        for j, (t, _, r, e) in enumerate(rows_i):
            q = rows.first_pos[i] + j
            retain_o[q], topic_o[q], expected_o[q] = r, codes.topic_code[t], e
    take = rows.take
    return pd.DataFrame(
        {
            "send_at": _utc_ms(take(st.send_at)),
            "topic": _categorical(topic_o, codes.topics),
            "payload": payload,
            "retain": retain_o,
            "device_id": _categorical(take(st.device), dev_ids),
            "kind": _categorical(take(st.kind), list(KINDS)),
            "seq": take(st.seq),
            "ts_true": _utc_ms(take(st.ts_true)),
            "fault": _categorical(take(st.fault), list(FAULTS)),
            "expected": _categorical(expected_o, codes.labels),
        },
        copy=False,
    )


#: Values of the ``expected`` labels kind:value precomputed per kind.
_VMAX = 1000


def _stream_codes(dev_ids: list[str], site_id: str, topic_root: str) -> _Codes:
    """Topic codes per (device, kind) and the expected labels kind:value,
    ble:<n beacons>, status:online|offline."""
    return _Codes(
        [f"{topic_root}/{site_id}/{d}/{k}" for d in dev_ids for k in KINDS],
        [
            f"status:{'online' if v else 'offline'}"
            if k == K_STATUS
            else f"{KINDS[k]}:{v}"
            for k in range(len(KINDS))
            for v in range(_VMAX)
        ],
    )


def _malform_own(
    st: Stream,
    own: np.ndarray,
    oi: np.ndarray,
    payload_own: np.ndarray,
    expected: np.ndarray,
    codes: _Codes,
) -> None:
    """Corrupt the own-format payloads the faults marked malformed (in place)."""
    bad = np.flatnonzero(own & (st.malformed >= 0))
    pos_in_own = np.searchsorted(oi, bad)
    for i, j in zip(bad.tolist(), pos_in_own.tolist(), strict=True):
        k, var = int(st.kind[i]), int(st.malformed[i])
        payload_own[j] = _malform(payload_own[j], k, var)
        expected[i] = codes.label(malformed_expected(var, k))


class _Rows:
    """Where each stream row lands in the frame: a message of another device
    family may become several rows (``outs``: row -> its messages)."""

    def __init__(
        self,
        n: int,
        oi: np.ndarray,
        outs: dict[int, list[tuple[str, bytes, bool, int]]],
    ) -> None:
        self.n, self.oi, self.outs = n, oi, outs
        if outs:
            counts = np.ones(n, dtype=np.int64)
            for i, rows_i in outs.items():
                counts[i] = len(rows_i)
            self.src = np.repeat(np.arange(n), counts)
            self.first_pos = np.cumsum(counts) - counts
        else:
            self.src = self.first_pos = np.arange(n)

    def take(self, a: np.ndarray) -> np.ndarray:
        return a[self.src] if self.outs else a

    def payloads(self, payload_own: np.ndarray) -> np.ndarray:
        if not self.outs and len(self.oi) == self.n:
            return payload_own
        payload = np.empty(len(self.src), dtype=object)
        payload[self.first_pos[self.oi]] = payload_own
        for i, rows_i in self.outs.items():
            for j, (_, b, _, _) in enumerate(rows_i):
                payload[self.first_pos[i] + j] = b
        return payload


def _sort_by_send_time(st: Stream) -> None:
    """Sort ``st`` in place by send time. Rows come per device in seq order: a
    stable sort on (send_at, device) keeps seq order among ties."""
    t_min = int(st.send_at.min()) if len(st.send_at) else 0
    order = np.argsort(((st.send_at - t_min) << 20) | st.device, kind="stable")
    for f in dataclasses.fields(Stream):
        if f.name != "bodies":  # in place, one column at a time (peak memory)
            setattr(st, f.name, getattr(st, f.name)[order])


def _other_family_rows(
    st: Stream,
    other: np.ndarray,
    family: np.ndarray,
    dev_ids: list[str],
    expected: np.ndarray,
    codes: _Codes,
    ctx: EncodeContext,
) -> dict[int, list[tuple[str, bytes, bool, int]]]:
    """Rows of the messages of other families (``other``), row by row: each
    gives 0..n (topic, payload, retain, expected code) rows."""
    outs: dict[int, list[tuple[str, bytes, bool, int]]] = {}
    for i in np.flatnonzero(other).tolist():
        k = int(st.kind[i])
        fam = family[st.device[i]]
        enc = ROW_ENCODERS[fam]
        out = enc(
            dev_ids[st.device[i]],
            KINDS[k],
            int(st.ts_device[i]),
            float(st.value[i]),
            int(st.seq[i]),
            str(st.bodies[st.beacons[i]]) if st.beacons[i] >= 0 else "",
            ctx,
        )
        rows: list[tuple[str, bytes, bool, int]] = []
        for t, p, r in out:
            exp = "ble:1" if len(out) > 1 or k == K_BLE else codes.labels[expected[i]]
            if k == K_COUNT and fam in _PRESENCE_ONLY:
                exp = f"presence:{int(st.value[i] > 0)}"
            body = p
            if st.malformed[i] >= 0:
                is_json = p.startswith(b"{")
                body = p[: max(len(p) // 2, 1)] if is_json else b"\xff"
                exp = "reject:bad_json" if is_json else "reject:bad_value"
            codes.topic(t)
            rows.append((t, body, r, codes.label(exp)))
        outs[i] = rows
    return outs
