"""Full rewrite of the rollup tables (``occupancy analyze --full`` over every
day): the rows go into index-less copies of the tables, which get their
indexes and statistics at the end and replace the tables in one transaction.

Why: rows inserted one by one into the indexes (primary keys on text ids) cost
the server more than the COPY itself; building each index once over the
finished table is several times cheaper. Readers see the old rollups until
the swap, the new ones after it; a failed rewrite leaves the tables as they
were. I/O only, like :mod:`analytics.db_io`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time

from psycopg2 import errors, sql

from analytics.db_io import ROLLUP_TABLES, staging_table
from analytics.space_months import forget_months
from occupancy.db import Connection, Cursor

logger = logging.getLogger(__name__)

__all__ = ["abandon_rewrite", "begin_rewrite", "finish_rewrite"]

_REWRITE_LOCK = 5_202_101  # advisory lock key: one rewrite at a time
_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
)
_INDEXES = """SELECT i.relname, pg_get_indexdef(x.indexrelid), c.conname,
       pg_get_constraintdef(c.oid)
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
  LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
 WHERE x.indrelid = %s::regclass
 ORDER BY i.relname"""


def _staging_index(name: str) -> str:
    return f"{name[:52]}__rewrite"


def begin_rewrite(conn: Connection, first: dt.date, last: dt.date) -> bool:
    """Create the index-less copies every rollup table is rewritten into,
    holding the rows of days outside ``first``..``last`` (kept as a chunked
    recompute keeps them). False (nothing created) when this connection's
    role does not own every rollup table or another rewrite is running: the
    caller then replaces the days chunk by chunk."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class"
            " WHERE oid = ANY(%s::regclass[])",
            (list(ROLLUP_TABLES),),
        )
        row = cur.fetchone()
        if not (row and row[0]):
            logger.info("not the owner of the rollup tables: no full rewrite")
            return False
        cur.execute("SELECT pg_try_advisory_lock(%s)", (_REWRITE_LOCK,))
        row = cur.fetchone()
        if not (row and row[0]):
            logger.info("another full rewrite is running: replacing days in place")
            return False
    try:
        with conn, conn.cursor() as cur:
            forget_months(cur, first, last)  # the month aggregates of those days
            for table in ROLLUP_TABLES:
                old, new = sql.Identifier(table), sql.Identifier(staging_table(table))
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(new))
                cur.execute(
                    sql.SQL(
                        "CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)"
                    ).format(new, old)
                )
                cur.execute(
                    sql.SQL(
                        "INSERT INTO {} SELECT * FROM {} WHERE day < %s OR day > %s"
                    ).format(new, old),
                    (first, last),
                )
                _copy_grants(cur, table, new)
                # No autovacuum of the half-filled copy (each pass would scan
                # all rows so far); it is analysed once at the end and
                # autovacuum takes over after the swap.
                _set_options(
                    cur, new, [*_options(cur, table), "autovacuum_enabled=false"]
                )
    except Exception:
        _unlock(conn)
        raise
    return True


def _copy_grants(cur: Cursor, table: str, new: sql.Identifier) -> None:
    """Grant on ``new`` what other roles were granted on ``table``."""
    cur.execute(
        """SELECT a.grantee = 0, COALESCE(r.rolname, ''), a.privilege_type
             FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
             LEFT JOIN pg_roles r ON r.oid = a.grantee
            WHERE c.oid = %s::regclass AND a.grantee <> c.relowner""",
        (table,),
    )
    for public, role, privilege in cur.fetchall():
        if privilege not in _PRIVILEGES:
            continue
        cur.execute(
            sql.SQL("GRANT {} ON {} TO {}").format(
                sql.SQL(privilege),
                new,
                sql.SQL("PUBLIC") if public else sql.Identifier(role),
            )
        )


_OPTION = re.compile(r"[a-z_.]+=[A-Za-z0-9_.\-]+")


def _options(cur: Cursor, table: str) -> list[str]:
    """The storage parameters (``name=value``) set on ``table``."""
    cur.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", (table,))
    row = cur.fetchone()
    return [str(o) for o in (row[0] if row and row[0] else [])]


def _set_options(cur: Cursor, new: sql.Identifier, options: list[str]) -> None:
    if not options:
        return
    if not all(_OPTION.fullmatch(o) for o in options):
        raise ValueError(f"unexpected storage parameters {options!r}")
    cur.execute(
        sql.SQL("ALTER TABLE {} SET ({})").format(
            new, sql.SQL(", ").join(sql.SQL(o) for o in options)
        )
    )


def finish_rewrite(conn: Connection) -> None:
    """Build the indexes of the copies (same definitions as the tables'),
    gather their statistics and swap them in for the tables, in one
    transaction for all tables. The index names end up those of the tables."""
    renames: list[tuple[str, str, str, bool]] = []  # table, tmp, name, constraint
    try:
        with conn, conn.cursor() as cur:
            for table in ROLLUP_TABLES:
                new = sql.Identifier(staging_table(table))
                cur.execute(_INDEXES, (table,))
                for name, indexdef, conname, condef in cur.fetchall():
                    tmp = _staging_index(name)
                    if conname is not None:  # primary key, unique, exclusion
                        cur.execute(
                            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                                new, sql.Identifier(tmp), sql.SQL(condef)
                            )
                        )
                        renames.append((table, tmp, conname, True))
                        continue
                    head, using = str(indexdef).split(" USING ", 1)
                    unique = sql.SQL("UNIQUE " if "UNIQUE" in head.split() else "")
                    cur.execute(
                        sql.SQL("CREATE {}INDEX {} ON {} USING {}").format(
                            unique, sql.Identifier(tmp), new, sql.SQL(using)
                        )
                    )
                    renames.append((table, tmp, name, False))
                cur.execute(sql.SQL("ANALYZE {}").format(new))
                cur.execute(
                    sql.SQL("ALTER TABLE {} RESET (autovacuum_enabled)").format(new)
                )
                _set_options(cur, new, _options(cur, table))
        _swap(conn, renames)
    finally:
        _unlock(conn)


#: The swap waits at most this long for a table's lock [ms] before it gives
#: way and tries again: a waiting ACCESS EXCLUSIVE request queues every new
#: reader behind it, so a long report query must not stall the dashboard.
SWAP_LOCK_TIMEOUT_MS = 2000
#: Attempts of the swap before the rewrite gives up (tables left as they were).
SWAP_ATTEMPTS = 30


def _swap(conn: Connection, renames: list[tuple[str, str, str, bool]]) -> None:
    """Replace every rollup table by its finished copy in one transaction.
    Each attempt takes the tables' locks with a lock timeout; on a timeout or
    a deadlock with a reader it rolls back (readers go on with the old
    tables), waits a little longer each time and tries again."""
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    "SELECT set_config('lock_timeout', %s, true)",
                    (f"{SWAP_LOCK_TIMEOUT_MS}ms",),
                )
                for table in ROLLUP_TABLES:
                    cur.execute(
                        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                            sql.Identifier(table)
                        )
                    )
                for table in ROLLUP_TABLES:
                    cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
                    cur.execute(
                        sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                            sql.Identifier(staging_table(table)), sql.Identifier(table)
                        )
                    )
                for table, tmp, name, constraint in renames:
                    stmt = (
                        sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                            sql.Identifier(table),
                            sql.Identifier(tmp),
                            sql.Identifier(name),
                        )
                        if constraint
                        else sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                            sql.Identifier(tmp), sql.Identifier(name)
                        )
                    )
                    cur.execute(stmt)
            return
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            if attempt == SWAP_ATTEMPTS:
                raise RuntimeError(
                    f"could not swap in the rewritten rollup tables after {attempt} "
                    f"attempts: readers kept them locked ({str(exc).strip()})"
                ) from exc
            logger.warning(
                "rollup swap attempt %d gave way to readers (%s); retrying",
                attempt,
                str(exc).strip().splitlines()[0],
            )
            time.sleep(min(0.1 * attempt, 2.0))


def abandon_rewrite(conn: Connection) -> None:
    """Drop the copies of a rewrite that failed (best effort; a later rewrite
    drops leftovers too); the tables keep their rows."""
    try:
        conn.rollback()
        with conn, conn.cursor() as cur:
            for table in ROLLUP_TABLES:
                cur.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(
                        sql.Identifier(staging_table(table))
                    )
                )
    except Exception:
        logger.exception("could not drop the rewrite tables (dropped next time)")
    finally:
        _unlock(conn)


def _unlock(conn: Connection) -> None:
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (_REWRITE_LOCK,))
    except Exception:
        logger.exception("could not release the rewrite lock (the session ends it)")
