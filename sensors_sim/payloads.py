"""Vectorized payload formatting: millions of small JSON payloads built as
byte matrices instead of one Python format call per message.

A payload template is a list of pieces (literal bytes, non-negative integers,
fixed-width byte strings, a choice among literals). Rows are grouped by the
widths of their variable pieces (e.g. the number of digits of ``seq``), so
inside a group every piece sits at a fixed column: each piece is one slice
assignment into a ``uint8`` matrix, and the matrix viewed as ``S<width>``
becomes ``bytes`` objects in one C-level ``tolist``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["Choice", "Digits", "Fixed", "Piece", "format_rows", "iso_ms"]

#: rows formatted per block: bounds the temporary matrices (~100 MB)
BLOCK_ROWS = 1 << 20


@dataclass(frozen=True)
class Digits:
    """A non-negative integer in decimal (no sign, no padding)."""

    values: np.ndarray  # int64 ≥ 0


@dataclass(frozen=True)
class Fixed:
    """A fixed-width byte string per row (numpy ``S<k>`` array, no NULs)."""

    values: np.ndarray


@dataclass(frozen=True)
class Choice:
    """One of a few literals per row: ``options[index]``."""

    index: np.ndarray  # int64 into options
    options: tuple[bytes, ...]


Piece = bytes | Digits | Fixed | Choice


def iso_ms(ts_ms: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC) of epoch milliseconds, as ``S24``."""
    s = np.datetime_as_string(ts_ms.astype("datetime64[ms]"), unit="ms")
    out: np.ndarray = np.char.add(s.astype("S23"), b"Z")
    return out


def _n_digits(x: np.ndarray) -> np.ndarray:
    """Decimal digits of each non-negative int64 (0 has one digit)."""
    width = np.ones(len(x), dtype=np.int64)
    top = int(x.max()) if len(x) else 0
    p = 10
    while p <= top:
        width += x >= p
        p *= 10
    return width


def _ascii_digits(x: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 ASCII digits of ``x`` (all of exactly ``width`` digits)."""
    p = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((x[:, None] // p) % 10 + 48).astype(np.uint8)


def _widths(piece: Piece, n: int) -> np.ndarray:
    """Per-row length of a piece [bytes]."""
    if isinstance(piece, bytes):
        return np.full(n, len(piece), dtype=np.int64)
    if isinstance(piece, Digits):
        return _n_digits(piece.values)
    if isinstance(piece, Fixed):
        return np.full(n, piece.values.dtype.itemsize, dtype=np.int64)
    lens = np.array([len(o) for o in piece.options], dtype=np.int64)
    out: np.ndarray = lens[piece.index]
    return out


def _variant(piece: Piece, n: int) -> np.ndarray | None:
    """What varies per row and changes the layout (None: constant layout)."""
    if isinstance(piece, Digits):
        return _n_digits(piece.values)
    if isinstance(piece, Choice):
        return piece.index.astype(np.int64)
    return None


def _take(piece: Piece, rows: np.ndarray) -> Piece:
    if isinstance(piece, Digits):
        return Digits(piece.values[rows])
    if isinstance(piece, Fixed):
        return Fixed(piece.values[rows])
    if isinstance(piece, Choice):
        return Choice(piece.index[rows], piece.options)
    return piece


def _fill_group(pieces: list[Piece], n: int) -> list[bytes]:
    """Format rows whose pieces all have the same width in every row."""
    first = [int(_widths(p, 1)[0]) for p in pieces] if n else [0] * len(pieces)
    width = sum(first)
    buf = np.empty((n, width), dtype=np.uint8)
    col = 0
    for p, w in zip(pieces, first, strict=True):
        if isinstance(p, bytes):
            buf[:, col : col + w] = np.frombuffer(p, dtype=np.uint8)
        elif isinstance(p, Digits):
            buf[:, col : col + w] = _ascii_digits(p.values, w)
        elif isinstance(p, Fixed):
            buf[:, col : col + w] = p.values.view(np.uint8).reshape(n, w)
        else:
            opt = p.options[int(p.index[0])]
            buf[:, col : col + w] = np.frombuffer(opt, dtype=np.uint8)
        col += w
    out: list[bytes] = buf.view(f"S{width}").ravel().tolist()
    return out


def format_rows(pieces: list[Piece], n: int) -> np.ndarray:
    """``n`` payloads (object array of ``bytes``), each the concatenation of
    the pieces' values in that row. Same bytes as ``%`` formatting."""
    out = np.empty(n, dtype=object)
    for lo in range(0, n, BLOCK_ROWS):
        hi = min(lo + BLOCK_ROWS, n)
        rows = np.arange(lo, hi)
        block = [_take(p, rows) if not isinstance(p, bytes) else p for p in pieces]
        m = hi - lo
        key = np.zeros(m, dtype=np.int64)
        for p in block:
            v = _variant(p, m)
            if v is not None:
                key = key * 64 + v
        order = np.argsort(key, kind="stable")
        ks = key[order]
        cuts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]][:m])
        ends = np.r_[cuts[1:], m][: len(cuts)]
        for a, b in zip(cuts, ends, strict=True):
            sel = order[a:b]
            out[lo + sel] = _fill_group([_take(p, sel) for p in block], b - a)
    return out
