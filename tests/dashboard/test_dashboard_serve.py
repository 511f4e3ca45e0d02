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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_debug_is_served_by_waitress_with_the_dev_tools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``occupancy dashboard --debug``: the same waitress server (not Flask's
    development server), with Dash's dev tools in the page's config and no
    hot reload."""
    import dash
    from click.testing import CliRunner

    from app.cli import main
    from dashboard.serve import DashboardServer

    seen: dict[str, object] = {}

    def serve_once(self: DashboardServer) -> None:
        self.start()
        try:
            with urllib.request.urlopen(self.url, timeout=30) as resp:
                seen["server"] = resp.headers["Server"]
                seen["body"] = resp.read()
        finally:
            self.close()

    def no_dev_server(*_a: object, **_k: object) -> None:
        raise AssertionError("--debug must not start Flask's development server")

    monkeypatch.setattr(DashboardServer, "serve_forever", serve_once)
    monkeypatch.setattr(dash.Dash, "run", no_dev_server)
    env = {"OCCUPANCY_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"}
    for args, ui in ((["--debug"], b'"ui":true'), ([], b'"ui":false')):
        seen.clear()
        port = str(_free_port())
        out = CliRunner().invoke(main, ["dashboard", "--port", port, *args], env=env)
        assert out.exit_code == 0, out.output
        assert seen["server"] == "occupancy-dashboard"
        body = seen["body"]
        assert isinstance(body, bytes)
        assert ui in body, body[-600:]
        assert b"hot_reload" not in body
        assert ("DEBUG" in out.output) == bool(args)
