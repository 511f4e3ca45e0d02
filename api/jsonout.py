"""Frames to JSON pages: cells as JSON values, pagination, ETags (pure)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["dumps", "etag_of", "frame_records", "page_of"]


#: A JSON scalar: what one cell of a frame becomes.
JsonScalar = str | int | float | bool | None


def _cell(value: Any) -> JsonScalar:  # Any: whatever a frame cell holds
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return None
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict[str, JsonScalar]]:
    """Rows as dicts of JSON values: NaN/NaT → null, times ISO 8601 with offset."""
    cols = list(frame.columns)
    return [
        {c: _cell(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def page_of(frame: pd.DataFrame, page: int, per_page: int) -> tuple[pd.DataFrame, bool]:
    """Rows of page ``page`` (from 1) and whether another page follows."""
    start = (page - 1) * per_page
    return frame.iloc[start : start + per_page], start + per_page < len(frame)


def dumps(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def etag_of(body: bytes) -> str:
    """A strong ETag (unquoted) of the response body."""
    return hashlib.sha256(body).hexdigest()[:32]
