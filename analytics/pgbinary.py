"""PostgreSQL binary COPY encoding of rollup frames, vectorized with numpy.

The server parses a binary row several times faster than a CSV row (no text
to number conversion), and packing the bytes with numpy is faster here than
formatting CSV. The stored values are exactly those the CSV path stores:
CSV carries each float64 as its shortest round-trip decimal text (Arrow's
writer), which PostgreSQL reads back to the same ``double precision``; a
``real`` column gets the float nearest to that text (``strtof``), which is
the float nearest to the float64 itself except when the float64 lies exactly
halfway between two floats: then the text's own digits decide (see
:func:`to_float4`). Pure: frames in, bytes out; the I/O is in
:mod:`analytics.db_io`.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["SUPPORTED_TYPES", "encode_copy", "to_float4"]

_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
_TRAILER = b"\xff\xff"
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_PG_EPOCH_US = 946_684_800_000_000

#: Column types (as ``format_type`` names them) and their binary layout.
_FIXED = {
    "smallint": ">i2",
    "integer": ">i4",
    "bigint": ">i8",
    "real": ">f4",
    "double precision": ">f8",
    "boolean": "u1",
    "date": ">i4",
    "timestamp with time zone": ">i8",
}
SUPPORTED_TYPES = frozenset({*_FIXED, "text"})
_FLOAT4_MAX = float(np.finfo(np.float32).max)


def to_float4(x: np.ndarray) -> np.ndarray | None:
    """float64 [any unit] -> the float32 PostgreSQL's ``real`` input gives for
    their shortest decimal text; None when a finite value is out of the
    float32 range (the text input would refuse it)."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    if bool((np.abs(x[finite]) > _FLOAT4_MAX).any()):
        return None
    f = x.astype(np.float32)
    back = f.astype(np.float64)
    toward = np.where(back < x, np.float32(np.inf), np.float32(-np.inf))
    other = np.nextafter(f, toward.astype(np.float32))
    # The midpoint of two neighbouring floats is exact in float64.
    tie = (back != x) & ((back + other.astype(np.float64)) / 2 == x)
    # Rare (the value needs exactly 25 significant bits): the text input
    # rounds its decimal digits, which lie above or below the midpoint or on
    # it (then ties to even, as numpy did).
    for i in np.flatnonzero(tie):
        text, exact = Decimal(repr(float(x[i]))), Decimal(float(x[i]))
        if text != exact:
            pick = max if text > exact else min
            f[i] = pick(f[i], other[i])
    return f


def _fixed_values(values: pd.Series, pgtype: str) -> np.ndarray | None:
    """The column's values as the binary layout of ``pgtype`` wants them
    (before the byte order), or None when not representable exactly."""
    if pgtype in ("smallint", "integer", "bigint"):
        return _int_values(values, pgtype)
    if pgtype in ("real", "double precision"):
        return _float_values(values, pgtype)
    if pgtype == "boolean":
        return values.to_numpy().astype(np.uint8) if values.dtype.kind == "b" else None
    if pgtype == "date":
        return _days(values)
    if pgtype == "timestamp with time zone":
        return _timestamp_us(values)
    return None


def _int_values(values: pd.Series, pgtype: str) -> np.ndarray | None:
    """Integers (or booleans) that fit ``pgtype``, as int64."""
    if values.dtype.kind not in "iub":
        return None
    v = values.to_numpy().astype(np.int64)
    info = np.iinfo(np.dtype(_FIXED[pgtype]).newbyteorder("="))
    if len(v) and (v.min() < info.min or v.max() > info.max):
        return None
    return v


def _float_values(values: pd.Series, pgtype: str) -> np.ndarray | None:
    """Floats as ``real`` or ``double precision`` store what the CSV text
    would give; None for NaN (CSV: NULL) and integers above 2**53."""
    kind = values.dtype.kind
    if kind in "iu":
        v64 = values.to_numpy().astype(np.float64)
        if len(v64) and np.abs(v64).max() >= 2.0**53:
            return None
    elif kind == "f":
        if values.dtype == np.float32:
            # Its CSV text is the float32's shortest decimal: exact for
            # real, not the float32's value for double precision.
            v32 = values.to_numpy()
            ok = pgtype == "real" and not bool(np.isnan(v32).any())
            return v32 if ok else None
        v64 = values.to_numpy().astype(np.float64)
    else:
        return None
    if bool(np.isnan(v64).any()):
        return None  # CSV writes NaN as an empty field: NULL
    return to_float4(v64) if pgtype == "real" else v64


def _timestamp_us(values: pd.Series) -> np.ndarray | None:
    """Aware timestamps as microseconds since 2000-01-01 UTC; None when not
    aware or finer than a microsecond."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        return None
    unit = values.dtype.unit
    i8 = np.asarray(values.array.asi8, dtype=np.int64)  # UTC, in ``unit``
    if unit == "ns":
        if bool((i8 % 1000 != 0).any()):
            return None
        us = i8 // 1000
    else:
        us = i8 * {"s": 1_000_000, "ms": 1000, "us": 1}[unit]
    return us - _PG_EPOCH_US


def _days(values: pd.Series) -> np.ndarray | None:
    """Days since 2000-01-01 of a column of dates (datetime.date objects or
    naive midnight datetimes)."""
    if values.dtype.kind == "M" and values.dtype == np.dtype("datetime64[ns]"):
        d = values.to_numpy().astype("datetime64[D]")
        if bool((d.astype("datetime64[ns]") != values.to_numpy()).any()):
            return None
        return d.astype(np.int64) - _PG_EPOCH_DAYS
    if values.dtype != object:
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:
        return None
    import datetime as dt

    if not all(type(u) is dt.date for u in uniques):
        return None
    days = np.array(list(uniques), dtype="datetime64[D]").astype(np.int64)
    return (days - _PG_EPOCH_DAYS)[codes]


def _text_slots(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Per row: the field (4-byte length, UTF-8 bytes, zero padding to the
    longest) and which of its bytes are real; None for non-strings or NULLs."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        uniques = list(values.cat.categories)
    elif values.dtype == object:
        c, u = pd.factorize(values, use_na_sentinel=True)
        codes, uniques = c.astype(np.int64), list(u)
    else:
        return None
    if (len(codes) and codes.min() < 0) or not all(type(u) is str for u in uniques):
        return None
    encoded = [u.encode() for u in uniques]
    width = 4 + max((len(e) for e in encoded), default=0)
    table = np.zeros((max(len(encoded), 1), width), dtype=np.uint8)
    valid = np.zeros(table.shape, dtype=bool)
    for k, e in enumerate(encoded):  # the distinct values, not the rows
        table[k, :4] = np.frombuffer(len(e).to_bytes(4, "big"), dtype=np.uint8)
        table[k, 4 : 4 + len(e)] = np.frombuffer(e, dtype=np.uint8)
        valid[k, : 4 + len(e)] = True
    return table[codes], valid[codes]


def encode_copy(
    frame: pd.DataFrame, types: dict[str, str]
) -> tuple[list[str], bytes] | None:
    """``frame`` as the body of ``COPY table (columns) FROM STDIN WITH (FORMAT
    binary)``: (columns in the order encoded, bytes). ``types``: column ->
    PostgreSQL type (``format_type``). None when a column's type or values
    are not supported here (the caller writes CSV instead); values that the
    text input would refuse also give None, so that the CSV path reports them."""
    if any(types.get(c) not in SUPPORTED_TYPES for c in frame.columns):
        return None
    fixed = [c for c in frame.columns if types[c] in _FIXED]
    texts = [c for c in frame.columns if types[c] == "text"]
    n = len(frame)
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, c in enumerate(fixed):
        fields += [(f"len{i}", ">i4"), (f"val{i}", _FIXED[types[c]])]
    rec = np.empty(n, dtype=np.dtype(fields))  # packed: no alignment padding
    rec["count"] = len(fixed) + len(texts)
    for i, c in enumerate(fixed):
        values = _fixed_values(frame[c], types[c])
        if values is None:
            return None
        rec[f"len{i}"] = np.dtype(_FIXED[types[c]]).itemsize
        rec[f"val{i}"] = values
    slots = []
    for c in texts:
        slot = _text_slots(frame[c])
        if slot is None:
            return None
        slots.append(slot)
    # Rows as a padded byte matrix (fixed part, then each text field in a slot
    # as wide as its longest value) and the mask of real bytes: selecting the
    # masked bytes in row-major order packs every row, in order.
    head = rec.view(np.uint8).reshape(n, rec.dtype.itemsize)
    if not slots:
        body = head.tobytes()
    else:
        matrix = np.concatenate([head, *(s[0] for s in slots)], axis=1)
        mask = np.concatenate(
            [np.ones(head.shape, dtype=bool), *(s[1] for s in slots)], axis=1
        )
        body = matrix[mask].tobytes()
    return [*fixed, *texts], _HEADER + body + _TRAILER
