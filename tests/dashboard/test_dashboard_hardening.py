"""Fail closed: no login off loopback refused, the proxy header believed only
from trusted proxies, placeholder secrets refused, /health without login and
truthful, security headers and no-store."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from click.testing import CliRunner

from occupancy.settings import SettingError, load_settings

pytestmark = pytest.mark.integration

BASIC = {"Authorization": "Basic " + base64.b64encode(b"fm:s3cret").decode()}


def _app(database_url: str, **overrides: Any) -> Any:
    from dashboard.app import create_app

    return create_app(load_settings({"database_url": database_url, **overrides}))


def test_no_auth_is_refused_off_loopback() -> None:
    from dashboard.auth import check_exposure

    none = load_settings({})
    assert check_exposure("127.0.0.1", none) == "none"
    assert check_exposure("::1", none) == "none"
    assert check_exposure("localhost", none) == "none"
    for host in ("0.0.0.0", "::", "10.1.2.3", "dashboard.example.org"):
        with pytest.raises(SettingError, match="without authentication"):
            check_exposure(host, none)
    assert check_exposure("0.0.0.0", load_settings({"auth_users": "fm:x"})) == "basic"


def test_proxy_header_needs_trusted_proxies() -> None:
    from dashboard.auth import auth_mode, parse_proxies

    with pytest.raises(SettingError, match="auth_trusted_proxies is empty"):
        auth_mode(load_settings({"auth_proxy_header": "X-Forwarded-User"}))
    with pytest.raises(SettingError, match="'10.0.0.300' is not an IP"):
        parse_proxies("10.0.0.1,10.0.0.300")
    assert len(parse_proxies("10.0.0.5, 172.16.0.0/12")) == 2


def test_cli_refuses_public_host_without_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import main

    for key in ("OCCUPANCY_AUTH_USERS", "OCCUPANCY_AUTH_PROXY_HEADER"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(main, ["dashboard", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "refusing to serve the dashboard on 0.0.0.0 without authentication" in (
        result.output
    )


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("OCCUPANCY_SECRET_KEY", "change-me-long-random"),
        ("OCCUPANCY_AUTH_USERS", "fm:change-me"),
        ("OCCUPANCY_PSEUDONYM_KEY", "change-me-64-hex-chars"),
        ("OCCUPANCY_DATABASE_URL", "postgresql://o:change-me-long-random@db/o"),
        ("OCCUPANCY_MQTT_URL", "mqtt://ingest:ChangeMe@mosquitto:1883"),
    ],
)
def test_example_secrets_are_refused_by_every_command(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str
) -> None:
    from app.cli import main

    monkeypatch.setenv(env, value)
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 1
    assert "example secret refused" in result.output
    assert env in result.output
    assert value not in result.output  # the error names the setting, not the value


def test_env_example_placeholders_are_all_caught() -> None:
    """Every secret the app reads from .env.example is a refused placeholder."""
    from occupancy.example_secrets import PLACEHOLDER

    from conftest import ROOT

    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    for key in ("POSTGRES_PASSWORD", "OCCUPANCY_PSEUDONYM_KEY", "OCCUPANCY_SECRET_KEY"):
        assert PLACEHOLDER.search(values[key]), key


def test_proxy_header_only_from_trusted_addresses(database_url: str) -> None:
    app = _app(
        database_url,
        auth_proxy_header="X-Forwarded-User",
        auth_trusted_proxies="10.0.0.5",
    )
    client = app.server.test_client()
    forged = {"X-Forwarded-User": "fm@example.org"}
    # The test client connects from 127.0.0.1: not the proxy, header ignored.
    assert client.get("/", headers=forged).status_code == 401
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    assert client.get("/", headers=forged, environ_base=proxy).status_code == 200
    assert client.get("/", environ_base=proxy).status_code == 401
    other = {"REMOTE_ADDR": "10.0.0.6"}
    assert client.get("/", headers=forged, environ_base=other).status_code == 401


def test_health_needs_no_login_and_tells_the_truth(database_url: str) -> None:
    from app.services import free_port

    client = _app(database_url, auth_users="fm:s3cret").server.test_client()
    r = client.get("/health")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "database": "ok"}
    assert client.get("/").status_code == 401  # only /health is open
    down = _app(
        f"postgresql://nobody@127.0.0.1:{free_port()}/none",
        auth_users="fm:s3cret",
        db_connect_timeout_s=1,
    ).server.test_client()
    r = down.get("/health")
    assert r.status_code == 503 and r.get_json()["status"] == "unhealthy"
    assert "nobody" not in r.get_data(as_text=True)


def test_security_headers_and_no_store(database_url: str) -> None:
    client = _app(database_url, auth_users="fm:s3cret").server.test_client()
    page = client.get("/", headers=BASIC)
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp
    assert "unsafe-eval" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    # Callbacks (exports are callback responses) are never cached ...
    r = client.post("/_dash-update-component", json={}, headers=BASIC)
    assert r.headers["Cache-Control"] == "no-store"
    # ... static files may be.
    css = client.get("/assets/style.css", headers=BASIC)
    assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    # Even a refusal carries the headers.
    assert client.get("/").headers["X-Frame-Options"] == "DENY"


def test_date_range_is_limited() -> None:
    import datetime as dt

    from dashboard.filters import MAX_RANGE_DAYS, parse_query

    today = dt.date(2026, 11, 30)
    f = parse_query("?from=1970-01-01&to=2026-11-29", today)
    assert f.end == dt.date(2026, 11, 29) and f.days == MAX_RANGE_DAYS
    f = parse_query("?from=2026-01-01&to=2026-11-29", today, max_days=31)
    assert (f.start, f.end) == (dt.date(2026, 10, 30), dt.date(2026, 11, 29))
    f = parse_query("?from=2026-11-01&to=2026-11-29", today, max_days=31)
    assert f.days == 29  # within the limit: unchanged
    assert load_settings({}).dashboard_max_range_days == 400
