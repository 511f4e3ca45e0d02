"""Row sums of a matrix per group of rows, as ``np.add.reduceat`` over the
gathered member rows gives them, without gathering the members of groups
whose rows are already consecutive in the matrix (a zone's, a floor's or the
building's spaces usually are); and the sorted distinct values of an integer
array (:func:`sorted_unique`). Pure numpy."""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["group_row_sums", "sorted_unique"]


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a 1-D array, by one sort: numpy 2.3+ takes a
    hash table for a plain ``np.unique``, which is 10-15 times slower than
    sorting on the wide int64 keys of the co-location counts (millions of
    distinct values), and then sorts its result anyway."""
    s = np.sort(np.asarray(values).ravel())
    if len(s) == 0:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def group_row_sums(
    mat: np.ndarray,
    members: np.ndarray,
    firsts: np.ndarray,
    *,
    gather_all: bool = False,
) -> np.ndarray:
    """Per group, the sum of the rows ``members[firsts[i]:firsts[i + 1]]`` of
    ``mat`` (2-D), added one after another in that order: one row per group.

    A group whose members are consecutive increasing rows is summed from a
    slice of ``mat``; the others from gathered rows. Both add the same rows in
    the same order with the same ``np.add.reduceat``, so the sums are
    bit-identical to gathering every group (``gather_all``, kept to test it)."""
    n = len(members)
    if n == 0:
        return np.zeros((0, mat.shape[1]), dtype=mat.dtype)
    if gather_all:
        out: np.ndarray = np.add.reduceat(mat[members], firsts, axis=0)
        return out
    ends = np.r_[firsts[1:], n]
    step = np.diff(members) == 1
    # A group is consecutive when every step inside it is +1.
    breaks = np.r_[0, np.cumsum(~step)]  # non-+1 steps before each position
    consecutive = breaks[ends - 1] == breaks[firsts]
    out = np.empty((len(firsts), mat.shape[1]), dtype=mat.dtype)
    if consecutive.any():
        lo = members[firsts[consecutive]]
        hi = members[ends[consecutive] - 1] + 1
        # reduceat over (start, end) pairs: even results are the slices' sums.
        # One zero row past the end keeps every end a valid index.
        padded = np.concatenate([mat, np.zeros((1, mat.shape[1]), mat.dtype)])
        pairs = np.column_stack([lo, hi]).ravel()
        out[consecutive] = np.add.reduceat(padded, pairs, axis=0)[::2]
    rest = ~consecutive
    if rest.any():
        take = np.concatenate(
            [np.arange(a, b) for a, b in zip(firsts[rest], ends[rest], strict=True)]
        )
        starts = np.r_[0, np.cumsum(ends[rest] - firsts[rest])[:-1]]
        out[rest] = np.add.reduceat(mat[members[take]], starts, axis=0)
    return out
