"""API tokens: created and revoked by ``occupancy api token``, stored hashed.

A token is ``occ_<prefix>_<secret>``: the prefix (public, shown in lists) finds
the row, the SHA-256 of the whole token is compared. Secrets are 256-bit
random, so a fast hash is enough (no password stretching needed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from occupancy.db import Connection

logger = logging.getLogger(__name__)

__all__ = [
    "SCOPES",
    "Token",
    "TokenError",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "verify_token",
]

#: The scopes a token can carry.
SCOPES = ("read:live", "read:reports")

_PREFIX = "occ_"


class TokenError(ValueError):
    """Bad token name, scope or id; the message names it."""


@dataclass(frozen=True)
class Token:
    token_id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _split(token: str) -> str | None:
    """The prefix of a well-formed token, else None."""
    if not token.startswith(_PREFIX):
        return None
    prefix, sep, secret = token[len(_PREFIX) :].partition("_")
    if not sep or len(prefix) != 8 or len(secret) < 20:
        return None
    return prefix


def create_token(
    conn: Connection, name: str, scopes: tuple[str, ...]
) -> tuple[Token, str]:
    """Store a new token; return it and the secret (shown once, never stored)."""
    if not name.strip():
        raise TokenError("token name is empty")
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise TokenError(
            f"unknown scope(s) {', '.join(bad) or '(none given)'}: use {', '.join(SCOPES)}"
        )
    prefix = secrets.token_hex(4)
    secret = f"{_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO api_tokens (name, prefix, token_hash, scopes)"
            " VALUES (%s, %s, %s, %s) RETURNING token_id, created_at",
            (name.strip(), prefix, hash_token(secret), list(dict.fromkeys(scopes))),
        )
        row = cur.fetchone()
        assert row is not None  # INSERT ... RETURNING gives one row
        token_id, created = row
    conn.commit()
    token = Token(token_id, name.strip(), prefix, tuple(scopes), created, None, None)
    return token, secret


def list_tokens(conn: Connection) -> list[Token]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT token_id, name, prefix, scopes, created_at, revoked_at,"
            " last_used_at FROM api_tokens ORDER BY token_id"
        )
        rows = cur.fetchall()
    return [Token(r[0], r[1], r[2], tuple(r[3]), r[4], r[5], r[6]) for r in rows]


def revoke_token(conn: Connection, ref: str) -> int:
    """Revoke tokens by id, prefix or name; return how many were revoked."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL"
            " AND (token_id::text = %s OR prefix = %s OR name = %s)",
            (ref, ref, ref),
        )
        n = int(cur.rowcount)
    conn.commit()
    return n


def verify_token(conn: Connection, token: str) -> tuple[str, ...] | None:
    """The scopes of a valid, unrevoked token; None otherwise. Marks it used
    (at most once a minute, so reads do not turn into a write per request)."""
    prefix = _split(token)
    if prefix is None:
        return None
    with conn.cursor() as cur:
        cur.execute(
            "SELECT token_id, token_hash, scopes FROM api_tokens"
            " WHERE prefix = %s AND revoked_at IS NULL",
            (prefix,),
        )
        row = cur.fetchone()
        if row is None or not hmac.compare_digest(bytes(row[1]), hash_token(token)):
            conn.rollback()
            return None
    conn.commit()
    with conn.cursor() as cur:
        # The API's database role reads in read-only transactions by default;
        # this one stamp is the only write its grants allow (occupancy/grants.py).
        cur.execute("SET TRANSACTION READ WRITE")
        cur.execute(
            "UPDATE api_tokens SET last_used_at = now() WHERE token_id = %s"
            " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            (row[0],),
        )
    conn.commit()
    return tuple(row[2])
