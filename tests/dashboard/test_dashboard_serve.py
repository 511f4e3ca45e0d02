"""The one way the dashboard is served (waitress, dashboard/serve.py)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest


def test_waitress_serves_the_app_and_stops() -> None:
    from dashboard.app import create_app
    from dashboard.serve import DashboardServer
    from occupancy.settings import load_settings

    # The index page needs no database.
    app = create_app(load_settings({"database_url": "postgresql://u@127.0.0.1:1/x"}))
    server = DashboardServer(app, "127.0.0.1", 0, threads=2)
    assert server.port > 0
    server.start()
    try:
        with urllib.request.urlopen(server.url, timeout=30) as resp:
            body = resp.read()
            assert resp.status == 200
            assert resp.headers["Server"] == "occupancy-dashboard"
        assert b"_dash-renderer" in body
    finally:
        server.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=5)
