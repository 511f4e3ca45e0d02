"""API fixtures: the demo-like week of tests/dashboard (seeded and analysed by
the real pipeline), the API served on a free port, and tokens."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_DASH_CONFTEST = Path(__file__).resolve().parent.parent / "dashboard" / "conftest.py"


def _load_seed() -> Any:
    spec = importlib.util.spec_from_file_location("_dashboard_seed", _DASH_CONFTEST)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


SEED = _load_seed()
WEEK = SEED.WEEK


@dataclass
class Api:
    url: str
    settings: Any
    tokens: dict[str, str] = field(default_factory=dict)
    _server: Any = field(default=None, repr=False)
    _thread: Any = field(default=None, repr=False)

    def headers(self, which: str = "all") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[which]}"}


def serve_flask(app: Any) -> tuple[str, Any, threading.Thread]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server, thread


@pytest.fixture(scope="module")
def demo_db(database_url: str) -> dict[str, Any]:
    info = SEED.seed_demo(database_url)
    return {**info, "url": database_url, "week": WEEK}


@pytest.fixture(scope="module")
def api(demo_db: dict[str, Any]) -> Iterator[Api]:
    import flask

    from api.app import register
    from api.tokens import create_token
    from occupancy.db import connect
    from occupancy.settings import load_settings

    settings = load_settings({"database_url": demo_db["url"]}, environ={})
    root = flask.Flask("test_api_root")
    app = register(root, settings)
    conn = connect(demo_db["url"])
    try:
        tokens = {
            "all": create_token(conn, "all", ("read:live", "read:reports"))[1],
            "live": create_token(conn, "kiosk", ("read:live",))[1],
            "reports": create_token(conn, "iwms", ("read:reports",))[1],
        }
    finally:
        conn.close()
    url, server, thread = serve_flask(root)
    handle = Api(url, settings, tokens, server, thread)
    try:
        yield handle
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["occupancy_api"].close()
