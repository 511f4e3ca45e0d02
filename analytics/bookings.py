"""The bookings CSV (room_id,start,end,organiser_department,expected_attendees),
parsed and checked in one place for ``occupancy bookings import`` and the demo."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["COLUMNS", "BookingsError", "read_bookings_csv", "unknown_rooms"]

COLUMNS = ("room_id", "start", "end", "organiser_department", "expected_attendees")


class BookingsError(ValueError):
    """A bookings file that cannot be imported; the message names the file and
    the column or row."""


def read_bookings_csv(file: str | Path) -> pd.DataFrame:
    """The bookings of ``file`` with ``start``/``end`` as UTC timestamps
    (ISO 8601 with offset in the file), every end after its start."""
    frame = pd.read_csv(file)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise BookingsError(
            f"{file}: missing column(s) {', '.join(missing)}; need {','.join(COLUMNS)}"
        )
    for col in ("start", "end"):
        try:
            frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise BookingsError(f"{file}: column {col}: {exc}") from exc
    bad = frame[frame["end"] <= frame["start"]]
    if len(bad):
        raise BookingsError(
            f"{file}: row {int(bad.index[0]) + 2}: end is not after start"
        )
    return frame


def unknown_rooms(frame: pd.DataFrame, spaces: pd.DataFrame) -> list[str]:
    """Room ids of ``frame`` that are not rooms of the building (sorted)."""
    rooms = set(spaces.loc[spaces["kind"] != "desk", "space_id"])
    return sorted(set(frame["room_id"].astype(str)) - rooms)
