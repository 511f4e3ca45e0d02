"""The building metadata (spaces, zones) the rollup readers use: read from
the database by each reader call, or given once by the caller for a block of
reads (the dashboard: its metadata cache, so a callback's reads do not each
re-read the same 2,000 spaces).

    with given_metadata(*read_metadata(conn)):
        read_utilization(conn, ...)   # no metadata query
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import pandas as pd

from analytics.db_io import read_metadata
from occupancy.db import Connection

__all__ = ["given_metadata", "has_assigned", "metadata"]

_GIVEN: ContextVar[tuple[pd.DataFrame, pd.DataFrame] | None] = ContextVar(
    "analytics_given_metadata", default=None
)


@contextmanager
def given_metadata(spaces: pd.DataFrame, zones: pd.DataFrame) -> Iterator[None]:
    """Within the block (this thread or task), readers use ``spaces`` and
    ``zones`` (as :func:`analytics.db_io.read_metadata` returns them) instead
    of reading them. The caller answers for their being current."""
    token = _GIVEN.set((spaces, zones))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def metadata(conn: Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(spaces, zones): the given ones (copies: readers may change theirs),
    else :func:`analytics.db_io.read_metadata`."""
    given = _GIVEN.get()
    if given is None:
        return read_metadata(conn)
    return given[0].copy(), given[1].copy()


def has_assigned(conn: Connection) -> bool:
    """Whether any space is an assigned desk (given metadata, else one query)."""
    given = _GIVEN.get()
    if given is not None:
        return bool(given[0]["assigned"].fillna(False).astype(bool).any())
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM spaces WHERE assigned)")
        row = cur.fetchone()
    return bool(row and row[0])
