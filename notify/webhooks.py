"""Webhook subscriptions, their outbox and delivery.

Every event is written to ``webhook_outbox`` once per subscription that wants
it, then POSTed as JSON signed with HMAC-SHA256 (:func:`sign`), at least once:
a failed attempt is retried with exponential backoff, and a subscription's
events go out strictly in order (the oldest pending event blocks the ones
after it), so each space's changes arrive in the order they happened. Every
attempt is logged in ``webhook_deliveries``; a run of ``max_failures``
failures disables the subscription.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from occupancy.db import Connection, Cursor
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = [
    "EVENT_TYPES",
    "DeliveryPolicy",
    "Subscription",
    "WebhookError",
    "add_subscription",
    "backoff_s",
    "deliver_pending",
    "enqueue",
    "list_subscriptions",
    "remove_subscription",
    "set_active",
    "sign",
    "verify",
]

EVENT_TYPES = ("space.state", "alert")
SIGNATURE_HEADER = "X-Occupancy-Signature"
TIMESTAMP_HEADER = "X-Occupancy-Timestamp"


class WebhookError(ValueError):
    """Bad URL, event type or subscription id; the message names it."""


@dataclass(frozen=True)
class Subscription:
    subscription_id: int
    url: str
    events: tuple[str, ...]
    active: bool
    failures: int
    created_at: dt.datetime
    disabled_reason: str | None


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_s: float = 5.0
    retry_base_s: float = 1.0
    retry_max_s: float = 30.0
    max_failures: int = 20

    @classmethod
    def from_settings(cls, s: Settings) -> DeliveryPolicy:
        return cls(
            s.webhook_timeout_s,
            s.webhook_retry_base_s,
            s.webhook_retry_max_s,
            int(s.webhook_max_failures),
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff_s(attempts: int, policy: DeliveryPolicy) -> float:
    """Delay before the next attempt after ``attempts`` failed ones [s]."""
    return float(min(policy.retry_max_s, policy.retry_base_s * 2 ** (attempts - 1)))


# ------------------------------------------------------------- subscriptions
def _check_url(url: str) -> None:
    p = urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise WebhookError(f"URL {url!r}: use http(s)://host[:port]/path")


def add_subscription(
    conn: Connection, url: str, events: tuple[str, ...], secret: str | None = None
) -> tuple[int, str]:
    """Store a subscription; return its id and signing secret."""
    _check_url(url)
    bad = [e for e in events if e not in EVENT_TYPES]
    if bad or not events:
        raise WebhookError(
            f"unknown event type(s) {', '.join(bad) or '(none)'}: use {', '.join(EVENT_TYPES)}"
        )
    secret = secret or secrets.token_urlsafe(32)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO webhook_subscriptions (url, events, secret) VALUES (%s, %s, %s)"
            " RETURNING subscription_id",
            (url, list(dict.fromkeys(events)), secret),
        )
        row = cur.fetchone()
        assert row is not None  # INSERT ... RETURNING gives one row
        sid = int(row[0])
    conn.commit()
    return sid, secret


def list_subscriptions(conn: Connection) -> list[Subscription]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT subscription_id, url, events, active, failures, created_at,"
            " disabled_reason FROM webhook_subscriptions ORDER BY subscription_id"
        )
        return [
            Subscription(r[0], r[1], tuple(r[2]), r[3], r[4], r[5], r[6])
            for r in cur.fetchall()
        ]


def remove_subscription(conn: Connection, sid: int) -> bool:
    with conn.cursor() as cur:
        cur.execute(
            "DELETE FROM webhook_subscriptions WHERE subscription_id = %s", (sid,)
        )
        n = int(cur.rowcount)
    conn.commit()
    return n > 0


def set_active(conn: Connection, sid: int, active: bool) -> bool:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE webhook_subscriptions SET active = %s, failures = 0,"
            " disabled_at = NULL, disabled_reason = NULL WHERE subscription_id = %s",
            (active, sid),
        )
        found = int(cur.rowcount) > 0
        if active:  # pending events are retried at once
            cur.execute(
                "UPDATE webhook_outbox SET next_attempt_at = now()"
                " WHERE subscription_id = %s AND delivered_at IS NULL",
                (sid,),
            )
    conn.commit()
    return found


# ------------------------------------------------------------------- outbox
def enqueue(conn: Connection, events: list[tuple[str, str, dict[str, object]]]) -> int:
    """Queue (event_type, subject, payload) for every active subscription that
    wants the type, in list order; return the rows queued. Caller commits."""
    if not events:
        return 0
    with conn.cursor() as cur:
        cur.execute(
            "SELECT subscription_id, events FROM webhook_subscriptions WHERE active"
            " ORDER BY subscription_id"
        )
        subs = cur.fetchall()
        rows = [
            (sid, etype, subject, json.dumps(payload, default=str))
            for etype, subject, payload in events
            for sid, wanted in subs
            if etype in wanted
        ]
        for row in rows:
            cur.execute(
                "INSERT INTO webhook_outbox (subscription_id, event_type, subject, payload)"
                " VALUES (%s, %s, %s, %s)",
                row,
            )
    return len(rows)


def _post(
    url: str, secret: str, event_id: int, etype: str, payload: Any, timeout: float
) -> tuple[int | None, str | None]:
    body = json.dumps(
        {"id": event_id, "type": etype, **payload}, separators=(",", ":")
    ).encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "workplace-occupancy-webhooks/1",
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: sign(secret, ts, body),
        "X-Occupancy-Event": etype,
        "X-Occupancy-Event-Id": str(event_id),
    }
    try:
        r = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    if 200 <= r.status_code < 300:
        return r.status_code, None
    return r.status_code, f"HTTP {r.status_code}"


def _deliver_one(cur: Cursor, sub: tuple[Any, ...], policy: DeliveryPolicy) -> bool:
    """Deliver the oldest pending event of ``sub`` if due; True if delivered."""
    sid, url, secret, failures = sub
    cur.execute(
        "SELECT event_id, event_type, payload, attempts, next_attempt_at <= now()"
        " FROM webhook_outbox WHERE subscription_id = %s AND delivered_at IS NULL"
        " ORDER BY event_id LIMIT 1",
        (sid,),
    )
    row = cur.fetchone()
    if row is None or not row[4]:
        return False
    event_id, etype, payload, attempts, _due = row
    t0 = time.perf_counter()
    status, error = _post(url, secret, event_id, etype, payload, policy.timeout_s)
    ms = 1000 * (time.perf_counter() - t0)
    cur.execute(
        "INSERT INTO webhook_deliveries (event_id, subscription_id, status_code, ok,"
        " error, duration_ms) VALUES (%s, %s, %s, %s, %s, %s)",
        (event_id, sid, status, error is None, error, ms),
    )
    if error is None:
        cur.execute(
            "UPDATE webhook_outbox SET delivered_at = now(), attempts = attempts + 1,"
            " last_error = NULL WHERE event_id = %s",
            (event_id,),
        )
        cur.execute(
            "UPDATE webhook_subscriptions SET failures = 0 WHERE subscription_id = %s",
            (sid,),
        )
        return True
    _record_failure(cur, sid, event_id, attempts, failures, error, policy)
    return False


def _record_failure(
    cur: Cursor,
    sid: int,
    event_id: int,
    attempts: int,
    failures: int,
    error: str,
    policy: DeliveryPolicy,
) -> None:
    """Schedule the retry of a failed delivery; disable the subscription
    after ``policy.max_failures`` failures in a row."""
    delay = backoff_s(attempts + 1, policy)
    cur.execute(
        "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = %s,"
        " next_attempt_at = now() + make_interval(secs => %s) WHERE event_id = %s",
        (error, delay, event_id),
    )
    if failures + 1 >= policy.max_failures:
        logger.warning(
            "webhook %s disabled after %d failures: %s", sid, failures + 1, error
        )
        cur.execute(
            "UPDATE webhook_subscriptions SET failures = failures + 1, active = false,"
            " disabled_at = now(), disabled_reason = %s WHERE subscription_id = %s",
            (f"{failures + 1} failures in a row, last: {error}", sid),
        )
    else:
        logger.info(
            "webhook %s event %s failed (%s), retry in %.0f s",
            sid,
            event_id,
            error,
            delay,
        )
        cur.execute(
            "UPDATE webhook_subscriptions SET failures = failures + 1"
            " WHERE subscription_id = %s",
            (sid,),
        )


def deliver_pending(
    conn: Connection, policy: DeliveryPolicy, *, limit: int = 500
) -> int:
    """Deliver due events of every active subscription, in order; at most
    ``limit`` per subscription per call. Return how many were delivered. A
    subscription being delivered by another process (advisory lock) is skipped."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT subscription_id, url, secret, failures FROM webhook_subscriptions"
            " WHERE active ORDER BY subscription_id"
        )
        subs = cur.fetchall()
    conn.commit()
    delivered = 0
    for sub in subs:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(417, %s)", (sub[0],))
            locked = cur.fetchone()
            if locked is None or not locked[0]:
                continue
            try:
                failures = sub[3]
                for _ in range(limit):
                    ok = _deliver_one(cur, (*sub[:3], failures), policy)
                    conn.commit()
                    if not ok:
                        break
                    delivered += 1
                    failures = 0
            finally:
                cur.execute("SELECT pg_advisory_unlock(417, %s)", (sub[0],))
                conn.commit()
    return delivered
