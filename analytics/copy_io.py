"""COPY (query) TO STDOUT into memory: a pandas frame (``copy_out``) or an
Arrow table with given column types (``copy_out_arrow``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from occupancy.db import Connection

if TYPE_CHECKING:
    import pyarrow as pa

#: Query parameters: positional or named.
Params = Sequence[object] | Mapping[str, object]


def copy_out(conn: Connection, query: str, params: Params = ()) -> pd.DataFrame:
    with conn.cursor() as cur:
        bound = cur.mogrify(query, params).decode()
        buf = io.StringIO()
        cur.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
    buf.seek(0)
    return pd.read_csv(buf)


def copy_out_arrow(
    conn: Connection,
    query: str,
    params: Params,
    types: Mapping[str, pa.DataType],
) -> pa.Table:
    """COPY (query) TO STDOUT as CSV into memory, parsed by Arrow's
    multi-threaded CSV reader with the given column types."""
    import pyarrow.csv as pacsv

    with conn.cursor() as cur:
        bound = cur.mogrify(query, params).decode()
        buf = io.BytesIO()
        cur.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
    buf.seek(0)
    return pacsv.read_csv(
        buf,
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True
        ),
    )
