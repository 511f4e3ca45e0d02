"""`occupancy analyze` on a schema older than the code (an upgrade without
`occupancy db migrate`): a clear error naming the missing migrations, not a
traceback about a missing table halfway through the run."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.cli import main
from occupancy.db import connect, list_migrations

pytestmark = pytest.mark.integration


def test_analyze_names_the_missing_migrations(database_url: str) -> None:
    last = list_migrations()[-1]
    conn = connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "DELETE FROM schema_migrations WHERE version = %s", (last.version,)
            )
    finally:
        conn.close()
    res = CliRunner().invoke(main, ["--database-url", database_url, "analyze"])
    assert res.exit_code != 0
    assert f"{last.version:04d}_{last.name}" in res.output
    assert "occupancy db migrate" in res.output
    migrated = CliRunner().invoke(
        main, ["--database-url", database_url, "db", "migrate"]
    )
    assert migrated.exit_code == 0, migrated.output
    again = CliRunner().invoke(main, ["--database-url", database_url, "analyze"])
    assert again.exit_code == 0, again.output
