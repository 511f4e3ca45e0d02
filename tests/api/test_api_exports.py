"""Every report of ``occupancy export`` has an API endpoint with the same
filters, and answers with the CSV's rows and k-suppression; every list
endpoint answers 304 to its ETag and refuses tokens without its scope."""

from __future__ import annotations

import io
import math
from typing import Any

import click
import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from analytics.api import PLAN_REPORTS
from analytics.reports import neutralize
from api.openapi import MAX_PER_PAGE, openapi_document
from api.plan_params import PLAN_PARAMS
from app.cli import main

from .conftest import WEEK, Api

pytestmark = pytest.mark.integration

_PREFIX = "/api/v1/reports/"


def _export_command() -> click.Command:
    cmd = main.get_command(click.Context(main), "export")  # lazily imported plugin
    assert isinstance(cmd, click.Command)
    return cmd


def _export_reports() -> set[str]:
    (param,) = [p for p in _export_command().params if p.name == "report"]
    assert isinstance(param.type, click.Choice)
    return set(param.type.choices)


def _params(path: str) -> dict[str, dict[str, Any]]:
    op: dict[str, Any] = openapi_document()["paths"][path]["get"]  # type: ignore[index]
    return {p["name"]: p for p in op["parameters"]}


def test_every_export_report_has_an_endpoint() -> None:
    """The export command's report list and the document's report paths are
    the same set; the plan reports are the ones the API types options for."""
    paths = {p[len(_PREFIX) :] for p in openapi_document()["paths"] if p.startswith(_PREFIX)}  # type: ignore[union-attr]  # fmt: skip
    assert paths == _export_reports()
    assert set(PLAN_PARAMS) == set(PLAN_REPORTS)


def test_every_report_takes_the_exports_filters() -> None:
    """Each option of `occupancy export` is a parameter of every non-plan
    report (--from/--to → from/to, --all-hours → all_hours, ...); --format and
    -o are the export's file, --plan the plan reports' typed parameters."""
    export_opts = {p.name for p in _export_command().params} - {"report"}
    not_filters = {"fmt", "output", "plan_opts"}
    wanted = {{"first": "from", "last": "to"}.get(o, o) for o in export_opts - not_filters}  # fmt: skip
    assert wanted >= {"from", "to", "level", "floor", "zone", "department", "all_hours", "rollup"}  # fmt: skip
    for name in _export_reports() - set(PLAN_REPORTS):
        params = _params(_PREFIX + name)
        assert wanted - {"level"} <= set(params), name
        assert ("level" in params) == bool(_levels(name)), name
    for name in PLAN_REPORTS:
        assert {"from", "to"} | {p.name for p in PLAN_PARAMS[name]} <= set(_params(_PREFIX + name))  # fmt: skip


def _levels(name: str) -> tuple[str, ...]:
    from analytics.reports import REPORTS

    return tuple(REPORTS[name].levels)


# (report, export CLI options, API query) on the seeded week.
_W = {"from": WEEK[0], "to": WEEK[1]}
CASES: list[tuple[str, list[str], dict[str, Any]]] = [
    ("sessions", [], {}),
    (
        "utilization",
        ["--level", "space", "--zone", "f0-operations"],
        {"level": "space", "zone": "f0-operations"},
    ),
    ("utilization", ["--level", "department"], {"level": "department"}),
    (
        "utilization",
        ["--level", "department", "--rollup"],
        {"level": "department", "rollup": "true"},
    ),
    (
        "hour-of-week",
        ["--level", "floor", "--all-hours"],
        {"level": "floor", "all_hours": "true"},
    ),
    ("rooms", [], {}),
    ("rooms", ["--level", "department"], {"level": "department"}),
    ("colocation", [], {}),
    ("colocation", ["--level", "diversity"], {"level": "diversity"}),
    ("colocation", ["--level", "trend"], {"level": "trend"}),
    ("devices", ["--floor", "f0"], {"floor": "f0"}),
    ("intervals", ["--zone", "f0-operations"], {"zone": "f0-operations"}),
    ("portfolio", [], {}),
    (
        "forecast",
        ["--plan", "horizon=1", "--plan", "levels=building,floor"],
        {"horizon": 1, "levels": ["building", "floor"]},
    ),
    (
        "whatif",
        ["--plan", "close=f0:fri", "--plan", "sharing=0.8"],
        {"close": "f0:fri", "sharing": 0.8},
    ),
    ("whatif", ["--plan", "show=desk-sharing"], {"show": "desk-sharing"}),
    (
        "stack",
        ["--plan", "pair=operations:operations"],
        {"pair": "operations:operations"},
    ),
    (
        "stack",
        ["--plan", "pair=operations:operations", "--plan", "show=pairs"],
        {"pair": "operations:operations", "show": "pairs"},
    ),
    (
        "intervention",
        ["--plan", "change=2026-11-05", "--plan", "zones=f0-operations"],
        {"change": "2026-11-05", "zones": "f0-operations"},
    ),
    ("scorecard", [], {}),
    ("scorecard", ["--plan", "show=weekly"], {"show": "weekly"}),
]


def _export_csv(api: Api, report: str, options: list[str]) -> pd.DataFrame:
    res = CliRunner().invoke(
        main,
        ["--database-url", api.settings.database_url, "export", report,
         "--from", WEEK[0], "--to", WEEK[1], *options],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return pd.read_csv(io.StringIO(res.stdout), dtype=str, keep_default_na=False)


def _as_csv_text(value: object) -> str:
    """A JSON value as the export's CSV writes that cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(neutralize(value))


def _api_rows(api: Api, report: str, query: dict[str, Any]) -> dict[str, Any]:
    params = {**_W, **query, "per_page": MAX_PER_PAGE}
    r = requests.get(api.url + _PREFIX + report, params=params, headers=api.headers("reports"), timeout=120)  # fmt: skip
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["total"] <= MAX_PER_PAGE, "the case should fit one page"
    return body


@pytest.mark.parametrize(("report", "options", "query"), CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_api_json_equals_the_export_csv(
    api: Api, report: str, options: list[str], query: dict[str, Any]
) -> None:
    """Same columns in order, same rows, same suppressed cells as the CSV
    `occupancy export` writes for the same filters."""
    csv = _export_csv(api, report, options)
    body = _api_rows(api, report, query)
    assert body["columns"] == list(csv.columns)
    got = [[_as_csv_text(row[c]) for c in body["columns"]] for row in body["data"]]
    assert got == csv.to_numpy().tolist()
    # The seeded week has no bookings, so no organiser departments.
    assert len(got) > 0 or (report, query.get("level")) == ("rooms", "department")


def test_k_suppression_is_the_exports(api: Api) -> None:
    """The cases above hold suppressed rows (so the comparison covers them):
    the Legal department has 2 badges < k, its co-location cells are empty in
    the CSV and null in the JSON."""
    csv = _export_csv(api, "colocation", [])
    body = _api_rows(api, "colocation", {})
    hidden = csv[csv["suppressed"] == "True"]
    assert len(hidden) > 0 and (hidden["minutes"] == "").all()
    nulls = [r for r in body["data"] if r["suppressed"]]
    assert len(nulls) == len(hidden) and all(r["minutes"] is None for r in nulls)


def _required_query(path: str) -> dict[str, Any]:
    """The smallest valid query of ``path`` on the seeded week."""
    params = _params(path)
    query: dict[str, Any] = dict(_W) if "from" in params else {}
    if path == _PREFIX + "intervention":
        query |= {"change": "2026-11-05", "zones": "f0-operations"}
    if path == _PREFIX + "stack":  # only operations has desk demand in the week
        query |= {"pair": "operations:operations"}
    return query


_LIST_PATHS = sorted(openapi_document()["paths"])  # type: ignore[arg-type]
_LIST_PATHS.remove("/api/v1/openapi.json") if "/api/v1/openapi.json" in _LIST_PATHS else None  # fmt: skip


@pytest.mark.parametrize("path", _LIST_PATHS)
def test_etag_304_and_scopes_on_every_endpoint(api: Api, path: str) -> None:
    scope = openapi_document()["paths"][path]["get"]["security"][0]["token"]  # type: ignore[index]
    query = _required_query(path)
    url = api.url + path

    def call(token: str | None, **hdr: str) -> requests.Response:
        auth = {"Authorization": f"Bearer {api.tokens[token]}"} if token else {}
        return requests.get(url, params=query, headers={**auth, **hdr}, timeout=120)

    ok = call("all")
    assert ok.status_code == 200, ok.text
    etag = ok.headers["ETag"]
    again = call("all", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag  # fmt: skip
    assert call("all", **{"If-None-Match": '"0000"'}).status_code == 200
    assert call(None).status_code == 401
    other = {"read:live": "reports", "read:reports": "live"}
    for need in scope:
        refused = call(other[need])
        assert refused.status_code == 403 and need in refused.json()["error"]["message"]
    mine = {"read:live": "live", "read:reports": "reports"}
    for need in scope or ["read:live", "read:reports"]:
        assert call(mine[need]).status_code == 200


def test_pagination_limits(api: Api) -> None:
    url = api.url + _PREFIX + "sessions"
    for bad in (0, MAX_PER_PAGE + 1, "x"):
        r = requests.get(url, params={**_W, "per_page": bad}, headers=api.headers(), timeout=60)  # fmt: skip
        assert r.status_code == 400 and "per_page" in r.json()["error"]["message"]
    r = requests.get(url, params={**_W, "page": 10**6}, headers=api.headers(), timeout=60)  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and body["data"] == [] and body["next"] is None
    assert body["total"] > 0 and "Link" not in r.headers


def test_plan_parameters_are_checked(api: Api) -> None:
    url = api.url + _PREFIX
    cases = [
        ("forecast", {"horizon": 9}, "horizon=9"),
        ("forecast", {"levels": "galaxy"}, "galaxy"),
        ("stack", {"time_limit": 31}, "time_limit=31"),
        ("intervention", {}, "change is required"),
        ("whatif", {"close": "f0"}, "close 'f0'"),
        ("whatif", {"sharing": "nan"}, "sharing=nan"),
    ]
    for report, extra, text in cases:
        r = requests.get(url + report, params={**_W, **extra}, headers=api.headers(), timeout=60)  # fmt: skip
        assert r.status_code == 400 and text in r.json()["error"]["message"], (report, r.text)  # fmt: skip
