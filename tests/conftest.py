"""Test harness: real services, started once per session on free ports.

- ``pg_server``: a private PostgreSQL + TimescaleDB (or the server named by
  ``OCCUPANCY_TEST_DATABASE_URL``, which must allow CREATE DATABASE).
- ``mqtt_server``: a private Mosquitto (or ``OCCUPANCY_TEST_MQTT_URL``).
- ``database_url``: a fresh, migrated database per test module.
- ``topic_prefix``: a unique topic prefix per test.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from app.services import MosquittoServer, PostgresServer, free_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_BUILDING = ROOT / "examples" / "office.yaml"
SHARED_PAYLOADS = ROOT.parent / "shared" / "payloads" / "device_messages.json"


@dataclass
class PgHandle:
    """How tests reach PostgreSQL: ``url(db)`` and, when private, the server."""

    base_url: str
    server: PostgresServer | None

    def url(self, database: str) -> str:
        p = urlsplit(self.base_url)
        return urlunsplit(p._replace(path="/" + database))

    def create_database(self, name: str) -> str:
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(self.url("postgres"), connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.close()
        return self.url(name)


@dataclass
class MqttHandle:
    url: str
    server: MosquittoServer | None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 1883


def make_traversable(path: Path) -> Path:
    """Let the postgres and mosquitto users (servers started as root drop to
    them) enter ``path`` and its parents below /tmp (pytest makes them 0700)."""
    os.chmod(path, 0o755)
    for parent in path.parents:
        if str(parent).startswith("/tmp/"):
            try:
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
            except PermissionError:
                pass
    return path


@pytest.fixture(scope="session")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_traversable(tmp_path_factory.mktemp("services"))


@pytest.fixture(scope="session")
def pg_server(services_dir: Path) -> Iterator[PgHandle]:
    given = os.environ.get("OCCUPANCY_TEST_DATABASE_URL")
    if given:
        yield PgHandle(given, None)
        return
    server = PostgresServer(services_dir / "postgres", free_port(), fsync=False)
    server.start()
    try:
        yield PgHandle(server.url(), server)
    finally:
        server.stop(mode="immediate")


@pytest.fixture(scope="session")
def mqtt_server(services_dir: Path) -> Iterator[MqttHandle]:
    given = os.environ.get("OCCUPANCY_TEST_MQTT_URL")
    if given:
        yield MqttHandle(given, None)
        return
    server = MosquittoServer(services_dir / "mosquitto", free_port())
    server.start()
    try:
        yield MqttHandle(server.url(), server)
    finally:
        server.stop()


def _module_db_name(request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", request.module.__name__.lower())
    return f"t_{name[-40:]}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def database_url(pg_server: PgHandle, request: pytest.FixtureRequest) -> str:
    """A fresh database for this test module, migrated, with the example building loaded."""
    from occupancy.building import load_building
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site

    url = pg_server.create_database(_module_db_name(request))
    conn = connect(url)
    try:
        migrate(conn)
        load_site(conn, load_building(EXAMPLE_BUILDING))
    finally:
        conn.close()
    return url


@pytest.fixture(scope="module")
def empty_database_url(pg_server: PgHandle, request: pytest.FixtureRequest) -> str:
    """A fresh database for this test module with nothing in it (not migrated)."""
    return pg_server.create_database(_module_db_name(request) + "_e")


@pytest.fixture()
def db_conn(database_url: str) -> Iterator[Any]:
    from occupancy.db import connect

    conn = connect(database_url)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture()
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """A topic prefix no other test uses: ``t/<test name>/<random>``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:40]
    return f"t/{name}/{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def example_site() -> Any:
    from occupancy.building import load_building

    return load_building(EXAMPLE_BUILDING)
