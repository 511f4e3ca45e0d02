"""The vectorized payload builder gives exactly the bytes of plain formatting,
worked out here by hand, including the width groups it sorts rows into."""

from __future__ import annotations

import numpy as np
import pytest

from sensors_sim import payloads
from sensors_sim.payloads import Choice, Digits, Fixed, format_rows, iso_ms


def test_rows_of_mixed_widths_keep_their_order() -> None:
    ts = np.array([1_767_225_600_000, 1_767_225_600_001, 1_767_225_659_999])
    seq = np.array([0, 12345, 7])
    occ = np.array([1, 0, 1])
    got = format_rows(
        [
            b'{"ts":',
            Digits(ts),
            b',"seq":',
            Digits(seq),
            b',"occupied":',
            Choice(occ, (b"false", b"true")),
            b"}",
        ],
        3,
    ).tolist()
    assert got == [
        b'{"ts":1767225600000,"seq":0,"occupied":true}',
        b'{"ts":1767225600001,"seq":12345,"occupied":false}',
        b'{"ts":1767225659999,"seq":7,"occupied":true}',
    ]


def test_iso_timestamps_and_fixed_pieces() -> None:
    # 2026-01-01T00:00:00Z is 1767225600 s after the epoch
    ts = np.array([1_767_225_600_000, 1_767_225_661_250])
    assert iso_ms(ts).tolist() == [
        b"2026-01-01T00:00:00.000Z",
        b"2026-01-01T00:01:01.250Z",
    ]
    got = format_rows(
        [
            b'{"ts":"',
            Fixed(iso_ms(ts)),
            b'","battery":',
            Digits(np.array([100, 9])),
            b"}",
        ],
        2,
    )
    assert got.tolist() == [
        b'{"ts":"2026-01-01T00:00:00.000Z","battery":100}',
        b'{"ts":"2026-01-01T00:01:01.250Z","battery":9}',
    ]


def test_blocks_and_empty_input(monkeypatch: pytest.MonkeyPatch) -> None:
    # several blocks, each with several width groups
    monkeypatch.setattr(payloads, "BLOCK_ROWS", 4)
    x = np.array([5, 50, 500, 5, 0, 99, 100, 1, 10, 3])
    got = format_rows([b"[", Digits(x), b"]"], len(x)).tolist()
    assert got == [
        b"[5]",
        b"[50]",
        b"[500]",
        b"[5]",
        b"[0]",
        b"[99]",
        b"[100]",
        b"[1]",
        b"[10]",
        b"[3]",
    ]
    assert format_rows([b"x", Digits(np.zeros(0, dtype=np.int64))], 0).tolist() == []
