"""Authentication on every route, the Dash callback endpoints included, and no
stack traces to the browser."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROUTES = (
    "/",
    "/floor-map",
    "/devices",
    "/_dash-layout",
    "/_dash-dependencies",
    "/assets/style.css",
)


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _app(database_url: str, **overrides: Any) -> Any:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    return create_app(load_settings({"database_url": database_url, **overrides}))


def _callback_body() -> dict[str, Any]:
    return {
        "output": "floormap-graph.figure",
        "outputs": {"id": "floormap-graph", "property": "figure"},
        "inputs": [{"id": "app-url", "property": "search", "value": "?site=hq"}],
        "changedPropIds": ["app-url.search"],
    }


def test_basic_auth_refuses_pages_and_callbacks(database_url: str) -> None:
    app = _app(database_url, auth_users="fm:s3cret,ana:pw2")
    client = app.server.test_client()
    for route in ROUTES:
        r = client.get(route)
        assert r.status_code == 401, route
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        r = client.get(route, headers=_basic("fm", "wrong"))
        assert r.status_code == 401, route
    r = client.post("/_dash-update-component", json=_callback_body())
    assert r.status_code == 401
    assert b"Traceback" not in r.data
    for route in ("/", "/_dash-layout"):
        assert client.get(route, headers=_basic("ana", "pw2")).status_code == 200


def test_proxy_header_mode(database_url: str) -> None:
    app = _app(
        database_url,
        auth_proxy_header="X-Forwarded-User",
        auth_trusted_proxies="127.0.0.1",  # the test client's address
    )
    client = app.server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"X-Forwarded-User": ""}).status_code == 401
    assert (
        client.get("/", headers={"X-Forwarded-User": "fm@example.org"}).status_code
        == 200
    )
    r = client.post("/_dash-update-component", json=_callback_body())
    assert r.status_code == 401


def test_callback_error_is_logged_not_shown(
    pg_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from app.services import free_port

    # A database nobody listens on: every data callback fails.
    app = _app(
        f"postgresql://nobody@127.0.0.1:{free_port()}/none", db_connect_timeout_s=1
    )
    assert not app.server.debug
    client = app.server.test_client()
    assert client.get("/devices").status_code == 200
    body = {
        "output": "..devices-kpis.children...devices-rejected.figure...devices-offline.children...devices-unassigned.children..",
        "outputs": [
            {"id": "devices-kpis", "property": "children"},
            {"id": "devices-rejected", "property": "figure"},
            {"id": "devices-offline", "property": "children"},
            {"id": "devices-unassigned", "property": "children"},
        ],
        "inputs": [{"id": "app-url", "property": "search", "value": "?site=hq"}],
        "changedPropIds": ["app-url.search"],
    }
    with caplog.at_level("ERROR", logger="dashboard.app"):
        r = client.post("/_dash-update-component", json=body)
    text = r.data.decode()
    assert "Traceback" not in text and 'File "' not in text and "nobody" not in text
    assert r.status_code == 200
    payload = json.loads(text)
    # No output is touched; the error banner says something went wrong.
    assert payload["sideUpdate"]["app-error"]["children"].startswith(
        "Something went wrong"
    )
    assert "devices-kpis" not in payload.get("response", {})
    assert any("dashboard callback failed" in rec.message for rec in caplog.records)
