"""The JSON API end to end on the seeded week: tokens and scopes, every report
equal to `occupancy export`'s frame (k-suppression included), pagination,
ETags, live state, the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from analytics.reports import REPORTS, Filters, build_report
from api.jsonout import frame_records
from occupancy.db import connect

from .conftest import WEEK, Api

pytestmark = pytest.mark.integration


def get(api: Api, path: str, token: str = "all", **params: Any) -> requests.Response:
    return requests.get(
        api.url + path, params=params, headers=api.headers(token), timeout=30
    )


def test_openapi_document_is_valid(api: Api) -> None:
    from openapi_spec_validator import validate

    doc = requests.get(api.url + "/api/v1/openapi.json", timeout=10).json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    for name in REPORTS:
        assert f"/api/v1/reports/{name}" in doc["paths"]


def test_tokens_and_scopes(api: Api) -> None:
    r = requests.get(api.url + "/api/v1/live", timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    bad = {"Authorization": "Bearer occ_deadbeef_" + "x" * 43}
    assert (
        requests.get(api.url + "/api/v1/live", headers=bad, timeout=10).status_code
        == 401
    )
    assert get(api, "/api/v1/live", "live").status_code == 200
    r = get(api, "/api/v1/reports/sessions", "live", **{"from": WEEK[0], "to": WEEK[1]})
    assert r.status_code == 403 and "read:reports" in r.json()["error"]["message"]
    assert get(api, "/api/v1/live", "reports").status_code == 403
    assert get(api, "/api/v1/sites", "reports").status_code == 200


def test_token_cli_create_use_revoke(api: Api) -> None:
    from app.cli import main

    env = {"OCCUPANCY_DATABASE_URL": api.settings.database_url}
    runner = CliRunner()
    out = runner.invoke(
        main, ["api", "token", "create", "bms", "--scope", "read:live"], env=env
    )
    assert out.exit_code == 0, out.output
    secret = out.stdout.strip().splitlines()[-1]
    assert secret.startswith("occ_")
    hdr = {"Authorization": f"Bearer {secret}"}
    assert (
        requests.get(api.url + "/api/v1/live", headers=hdr, timeout=10).status_code
        == 200
    )
    conn = connect(api.settings.database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT token_hash FROM api_tokens WHERE name = 'bms'")
            stored = bytes(cur.fetchone()[0])
    finally:
        conn.close()
    assert secret.encode() not in stored and len(stored) == 32  # only the SHA-256
    listed = runner.invoke(main, ["api", "token", "list"], env=env)
    assert "bms" in listed.output and secret not in listed.output
    out = runner.invoke(main, ["api", "token", "revoke", "bms"], env=env)
    assert out.exit_code == 0 and "revoked 1" in out.output
    assert (
        requests.get(api.url + "/api/v1/live", headers=hdr, timeout=10).status_code
        == 401
    )
    again = runner.invoke(main, ["api", "token", "revoke", "bms"], env=env)
    assert again.exit_code != 0 and "no active token" in again.output


CASES = [
    ("sessions", None, {}),
    ("utilization", "floor", {}),
    ("utilization", "space", {"zone": "f0-operations"}),
    ("hour-of-week", "space", {"all_hours": "true"}),
    ("rooms", "room", {}),
    ("colocation", "matrix", {}),
    ("colocation", "diversity", {}),
    ("devices", None, {"floor": "f0"}),
    ("intervals", None, {"zone": "f0-operations"}),
]


@pytest.mark.parametrize(("report", "level", "extra"), CASES)
def test_report_equals_export(
    api: Api, report: str, level: str | None, extra: dict[str, str]
) -> None:
    params: dict[str, Any] = {"from": WEEK[0], "to": WEEK[1], "per_page": 1000, **extra}
    if level:
        params["level"] = level
    r = get(api, f"/api/v1/reports/{report}", **params)
    assert r.status_code == 200, r.text
    body = r.json()
    filters = Filters(
        site="hq", floor=extra.get("floor"), zone=extra.get("zone"),
        working_hours_only="all_hours" not in extra,
    )  # fmt: skip
    conn = connect(api.settings.database_url)
    try:
        frame = build_report(
            conn, report, dt.date.fromisoformat(WEEK[0]), dt.date.fromisoformat(WEEK[1]),
            level=level, filters=filters, settings=api.settings,
        )  # fmt: skip
    finally:
        conn.close()
    assert body["columns"] == list(frame.columns)
    assert body["total"] == len(frame) and len(frame) > 0
    assert body["data"] == frame_records(frame)


def test_colocation_suppressed_as_in_the_export(api: Api) -> None:
    """Legal has 2 badges (< k = 5): its cells carry no values, as in the CSV."""
    body = get(
        api,
        "/api/v1/reports/colocation",
        **{"from": WEEK[0], "to": WEEK[1], "per_page": 1000},
    ).json()
    legal = [
        row
        for row in body["data"]
        if "legal" in (row["department_a"], row["department_b"])
    ]
    assert legal, "the seeded Legal badges should appear as suppressed cells"
    for row in legal:
        assert row["suppressed"] is True
        assert (
            row["minutes"] is None and row["people_a"] is None and row["lift"] is None
        )
    shown = [row for row in body["data"] if not row["suppressed"]]
    assert shown and all(row["people_a"] >= 5 and row["people_b"] >= 5 for row in shown)


def test_pagination_and_etag(api: Api) -> None:
    params = {"from": WEEK[0], "to": WEEK[1], "level": "space", "per_page": 7}
    whole = get(
        api, "/api/v1/reports/utilization", **{**params, "per_page": 1000}
    ).json()
    rows: list[Any] = []
    url: str | None = api.url + "/api/v1/reports/utilization"
    query: dict[str, Any] | None = params
    pages = 0
    while url:
        r = requests.get(url, params=query, headers=api.headers(), timeout=30)
        assert r.status_code == 200
        body = r.json()
        assert len(body["data"]) <= 7 and body["total"] == whole["total"]
        if body["next"]:
            assert r.headers["Link"] == f'<{body["next"]}>; rel="next"'
        rows += body["data"]
        url, query, pages = body["next"], None, pages + 1
    assert rows == whole["data"] and pages == -(-whole["total"] // 7) and pages > 1

    first = get(api, "/api/v1/reports/utilization", **params)
    etag = first.headers["ETag"]
    hdr = {**api.headers(), "If-None-Match": etag}
    again = requests.get(
        api.url + "/api/v1/reports/utilization", params=params, headers=hdr, timeout=30
    )
    assert (
        again.status_code == 304
        and again.content == b""
        and again.headers["ETag"] == etag
    )
    other = requests.get(
        api.url + "/api/v1/reports/utilization",
        params={**params, "page": 2},
        headers=hdr,
        timeout=30,
    )
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_bad_parameters_name_the_input(api: Api) -> None:
    cases = [
        ({"from": "2026-13-01", "to": WEEK[1]}, "from='2026-13-01'"),
        ({"from": WEEK[1], "to": WEEK[0]}, "before"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 400 days"),
        ({"from": WEEK[0], "to": WEEK[1], "level": "galaxy"}, "galaxy"),
        ({"from": WEEK[0], "to": WEEK[1], "per_page": 0}, "per_page=0"),
        ({"to": WEEK[1]}, "from is required"),
    ]
    for params, text in cases:
        r = get(api, "/api/v1/reports/utilization", **params)
        assert r.status_code == 400, (params, r.text)
        assert text in r.json()["error"]["message"], (params, r.text)


def test_live_state_from_raw_events(api: Api, demo_db: dict[str, Any]) -> None:
    """Fresh events (the rollups know nothing of them): an occupied desk with
    its since, a vacant desk, a counter with people, a silent desk."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    d1, d2, d3 = demo_db["desks"][:3]
    room = demo_db["room"]
    rows = [
        (now - dt.timedelta(minutes=50), d1, "presence", 0.0),
        (now - dt.timedelta(minutes=30), d1, "presence", 1.0),
        (now - dt.timedelta(minutes=5), d1, "heartbeat", 1.0),
        (now - dt.timedelta(minutes=8), d2, "presence", 0.0),
        (now - dt.timedelta(minutes=90), d3, "presence", 1.0),  # silent since
        (now - dt.timedelta(minutes=12), room, "count", 3.0),
    ]
    conn = connect(api.settings.database_url)
    try:
        with conn, conn.cursor() as cur:
            for i, (ts, space, kind, value) in enumerate(rows):
                cur.execute(
                    "INSERT INTO sensor_events (ts, device_id, space_id, kind, value, seq)"
                    " SELECT %s, device_id, %s, %s, %s, %s FROM devices WHERE space_id = %s LIMIT 1",
                    (ts, space, kind, value, 900000 + i, space),
                )
    finally:
        conn.close()
    body = get(api, "/api/v1/live", "live", per_page=1000).json()
    by = {row["space_id"]: row for row in body["data"]}
    assert body["total"] == len(by) > 12
    assert by[d1]["state"] == "occupied" and by[d1]["people"] is None
    assert dt.datetime.fromisoformat(by[d1]["since"]) == now - dt.timedelta(minutes=30)
    assert by[d2]["state"] == "vacant"
    assert by[d3]["state"] == "unknown"
    assert dt.datetime.fromisoformat(by[d3]["since"]) == now - dt.timedelta(minutes=70)
    assert by[room]["state"] == "occupied" and by[room]["people"] == 3.0
    assert by[room]["kind"] == "meeting_room"
    zone = get(api, "/api/v1/live", "live", zone="f0-operations", kind="desk").json()
    assert zone["total"] > 0 and all(
        r["zone_id"] == "f0-operations" for r in zone["data"]
    )


def test_sites_and_spaces(api: Api) -> None:
    sites = get(api, "/api/v1/sites").json()["data"]
    assert [s["site_id"] for s in sites] == ["hq"] and sites[0]["spaces"] > 0
    spaces = get(api, "/api/v1/spaces", floor="f0", per_page=1000).json()
    assert spaces["total"] > 0 and {s["floor_id"] for s in spaces["data"]} == {"f0"}


def test_served_beside_the_dashboard_with_its_own_auth(
    demo_db: dict[str, Any], api: Api
) -> None:
    """Mounted on the dashboard's server (as `occupancy dashboard` does): the
    dashboard asks for its login, the API for its token."""
    from api.app import register
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    from .conftest import serve_flask

    settings = load_settings(
        {"database_url": demo_db["url"], "auth_users": "fm:pw"}, environ={}
    )
    app = create_app(settings)
    register(app.server, settings)
    url, server, thread = serve_flask(app.server)
    try:
        assert requests.get(url + "/", timeout=30).status_code == 401
        hdr = api.headers("live")
        r = requests.get(url + "/api/v1/live", headers=hdr, timeout=30)
        assert r.status_code == 200 and r.json()["total"] > 0
        assert requests.get(url + "/api/v1/live", timeout=30).status_code == 401
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.server.extensions["occupancy_api"].extensions["occupancy_api"].close()
        app.server.extensions["occupancy_dashboard"].close()
