"""Intervals cut at bucket boundaries and placed on the calendar's bucket grid
(shared by the per-space, per-level, room and evaluation measures)."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["attach_calendar", "booking_pieces", "ordinal_dates", "split_buckets"]


def split_buckets(iv: pd.DataFrame, bucket_s: int) -> pd.DataFrame:
    """Cut intervals at bucket edges: one row per (interval, bucket) with
    ``bucket`` (epoch index), ``seconds`` of overlap [s], ``row`` (the
    interval's position) and its ``space_id`` and ``value``."""
    start = iv["start"].to_numpy(dtype=float)
    end = iv["end"].to_numpy(dtype=float)
    b0 = np.floor(start / bucket_s).astype(np.int64)
    b1 = np.ceil(end / bucket_s).astype(np.int64) - 1
    n = np.maximum(b1 - b0 + 1, 0)
    row = np.repeat(np.arange(len(iv)), n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    bucket = b0[row] + offset
    seg0 = np.maximum(start[row], bucket * float(bucket_s))
    seg1 = np.minimum(end[row], (bucket + 1) * float(bucket_s))
    return pd.DataFrame(
        {
            "row": row,
            "space_id": iv["space_id"].to_numpy()[row],
            "bucket": bucket,
            "seconds": seg1 - seg0,
            "value": iv["value"].to_numpy(dtype=float)[row],
        }
    )


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def ordinal_dates(ordinals: pd.Series | np.ndarray) -> np.ndarray:
    """Proleptic ordinals → ``datetime.date`` objects."""
    arr = np.asarray(ordinals, dtype=np.int64)
    uniq, inv = np.unique(arr, return_inverse=True)
    dates = np.array([dt.date.fromordinal(int(o)) for o in uniq], dtype=object)
    return dates[inv] if len(arr) else np.array([], dtype=object)


def attach_calendar(pieces: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """Add day (as a date ordinal), hour and available of each piece's bucket (``grid`` from
    :func:`analytics.calendar.bucket_frame` with ``available_only=False``);
    pieces outside the grid are dropped."""
    b0 = int(grid["bucket"].iloc[0])
    pos = pieces["bucket"].to_numpy() - b0
    ok = (pos >= 0) & (pos < len(grid))
    out = pieces[ok].copy()
    pos = pos[ok]
    # Days as ordinals while grouping (dates are slow Python objects).
    epoch_days = (
        pd.to_datetime(grid["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    )
    out["day"] = epoch_days[pos] + _EPOCH_ORDINAL
    out["hour"] = grid["hour"].to_numpy()[pos]
    out["available"] = grid["available"].to_numpy()[pos]
    return out


def booking_pieces(b: pd.DataFrame, bucket_s: int) -> pd.DataFrame:
    """The bookings ``b`` (room_id, start, end UTC) cut at bucket boundaries:
    :func:`split_buckets` pieces with ``space_id`` the room and ``row`` the
    booking's position in ``b``."""
    epoch = pd.Timestamp(0, tz="UTC")
    iv = pd.DataFrame(
        {
            "space_id": b["room_id"].astype(str).to_numpy(),
            "start": (pd.to_datetime(b["start"], utc=True) - epoch)
            .dt.total_seconds()
            .to_numpy(),
            "end": (pd.to_datetime(b["end"], utc=True) - epoch)
            .dt.total_seconds()
            .to_numpy(),
            "value": 1.0,
        }
    )
    return split_buckets(iv, bucket_s)
