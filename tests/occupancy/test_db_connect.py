"""occupancy.db.connect: a temporary name-resolution failure (a container
network's DNS reloading, containers/aardvark-dns#389) is tried again; every
other failure raises at once. The connection that finally opens is the real
test database's."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import psycopg2
import pytest

from occupancy import db
from occupancy.db import DatabaseError, connect

pytestmark = pytest.mark.integration

TEMPORARY = (
    'could not translate host name "timescaledb" to address: Temporary failure'
    " in name resolution\n"
)


def _failing_first(n: int, message: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """psycopg2.connect raising ``message`` ``n`` times, then the real one;
    returns the list of attempted URLs."""
    real = psycopg2.connect
    tried: list[str] = []

    def flaky(url: str, **kw: Any) -> Any:
        tried.append(url)
        if len(tried) <= n:
            raise psycopg2.OperationalError(message)
        return real(url, **kw)

    monkeypatch.setattr(db.psycopg2, "connect", flaky)
    monkeypatch.setattr(db, "_DNS_RETRY_S", (0.01, 0.02, 0.04))
    return tried


def test_temporary_dns_failure_is_tried_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tried = _failing_first(2, TEMPORARY, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="occupancy.db"):
        conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        conn.close()
    assert len(tried) == 3
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2 and all("trying again" in w for w in warned)


def test_temporary_dns_failure_gives_up_after_the_waits(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = _failing_first(10, TEMPORARY, monkeypatch)
    with pytest.raises(DatabaseError, match="Temporary failure in name resolution"):
        connect(database_url)
    assert len(tried) == 4  # the first attempt and one after each of 3 waits


@pytest.mark.parametrize(
    "message",
    [
        'could not translate host name "nosuch" to address: Name or service not known',
        'connection to server at "127.0.0.1", port 1 failed: Connection refused',
        'password authentication failed for user "occupancy"',
    ],
)
def test_other_failures_raise_at_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    tried = _failing_first(10, message, monkeypatch)
    t = time.monotonic()
    with pytest.raises(DatabaseError, match="cannot connect to"):
        connect(database_url)
    assert len(tried) == 1 and time.monotonic() - t < 0.5


def test_an_unknown_host_is_not_retried() -> None:
    """A real lookup of a name that cannot exist (RFC 2606 .invalid)."""
    try:
        socket.getaddrinfo("nosuchhost.invalid", 5432)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            pytest.skip("this machine's resolver does not answer (EAI_AGAIN)")
    t = time.monotonic()
    with pytest.raises(DatabaseError, match="could not translate host name"):
        connect("postgresql://occupancy@nosuchhost.invalid/occupancy", timeout_s=2)
    assert time.monotonic() - t < 3
