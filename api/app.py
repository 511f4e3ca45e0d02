"""The ``/api/v1`` Flask app: token check, parameter parsing, endpoints.

Mounted on the dashboard's server by :func:`register` (a WSGI dispatcher at
``/api``, so the dashboard's login does not apply: the API has its own tokens),
or served alone (``occupancy api serve``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import flask
import pandas as pd
from psycopg2.pool import ThreadedConnectionPool
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from analytics import api as analytics_api
from analytics.api import REPORTS, Filters, ReportError, build_report, read_live
from api.jsonout import dumps, etag_of, frame_records, page_of
from api.openapi import MAX_DAYS, MAX_PER_PAGE, openapi_document
from api.plan_params import PLAN_PARAMS, PlanParamError, plan_options
from api.tokens import verify_token
from occupancy.db import Connection, read_frame
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["ApiError", "create_api", "register"]

EXTENSION_KEY = "occupancy_api"
_FIRST_DAY, _LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


class ApiError(Exception):
    """An error answered as JSON ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Db:
    """A small connection pool, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ThreadedConnectionPool | None = None

    @contextmanager
    def conn(self) -> Iterator[Any]:
        if self._pool is None:
            self._pool = ThreadedConnectionPool(
                1,
                8,
                self.settings.effective_database_url,
                connect_timeout=self.settings.db_connect_timeout_s,
                application_name="occupancy-api",
            )
        conn = self._pool.getconn()
        try:
            yield conn
            conn.rollback()
        except Exception:
            conn.rollback()
            raise
        finally:
            self._pool.putconn(conn)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.closeall()
            self._pool = None


def _db() -> _Db:
    db: _Db = flask.current_app.extensions[EXTENSION_KEY]
    return db


def _error(status: int, code: str, message: str) -> flask.Response:
    resp = flask.Response(
        dumps({"error": {"code": code, "message": message}}),
        status=status,
        mimetype="application/json",
    )
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="occupancy-api"'
    return resp


def _require(scope: str | None) -> None:
    header = flask.request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    with _db().conn() as conn:
        scopes = verify_token(conn, token.strip())
    if scopes is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token")
    if scope is not None and scope not in scopes:
        raise ApiError(403, "forbidden", f"the token lacks scope {scope}")


# ------------------------------------------------------------------ parameters
def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            400, "bad_parameter", f"{name}={raw!r} is not an integer"
        ) from None
    if not lo <= value <= hi:
        raise ApiError(400, "bad_parameter", f"{name}={value} is not in {lo}..{hi}")
    return value


def _date(name: str) -> dt.date:
    raw = flask.request.args.get(name)
    if raw is None:
        raise ApiError(400, "bad_parameter", f"{name} is required (YYYY-MM-DD)")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400, "bad_parameter", f"{name}={raw!r} is not YYYY-MM-DD"
        ) from None
    if not _FIRST_DAY <= day <= _LAST_DAY:
        raise ApiError(400, "bad_parameter", f"{name}={raw} is outside 2000..2099")
    return day


def _bool(name: str) -> bool:
    raw = flask.request.args.get(name, "false").strip().lower()
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no", ""):
        return False
    raise ApiError(400, "bad_parameter", f"{name}={raw!r} is not true or false")


def _text(name: str) -> str | None:
    raw = flask.request.args.get(name)
    return raw if raw else None


# ------------------------------------------------------------------- responses
def _page_response(
    frame: pd.DataFrame,
    extra: dict[str, Any] | None = None,
    volatile: tuple[str, ...] = (),
) -> flask.Response:
    page = _int("page", 1, 1, 10_000_000)
    per_page = _int("per_page", 100, 1, MAX_PER_PAGE)
    rows, more = page_of(frame, page, per_page)
    nxt = None
    if more:
        args = flask.request.args.to_dict()
        args["page"] = str(page + 1)
        nxt = flask.url_for(flask.request.endpoint or "", _external=True, **args)
    payload = {**(extra or {}), "data": frame_records(rows), "page": page,
               "per_page": per_page, "total": len(frame), "next": nxt}  # fmt: skip
    body = dumps(payload)
    # The ETag covers what the client polls for, not the moment of the answer
    # (/live's "at"), so an unchanged live page answers 304 too.
    etag = etag_of(dumps({k: v for k, v in payload.items() if k not in volatile}))
    if flask.request.if_none_match.contains(etag):
        resp = flask.Response(status=304)
    else:
        resp = flask.Response(body, mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "private, no-cache"
    if nxt:
        resp.headers["Link"] = f'<{nxt}>; rel="next"'
    return resp


def _sites(conn: Connection) -> pd.DataFrame:
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT s.site_id, s.name, s.timezone,
                  count(DISTINCT b.building_id) AS buildings,
                  count(DISTINCT f.floor_id) AS floors,
                  count(DISTINCT sp.space_id) AS spaces
             FROM sites s LEFT JOIN buildings b USING (site_id)
             LEFT JOIN floors f USING (building_id) LEFT JOIN zones z USING (floor_id)
             LEFT JOIN spaces sp USING (zone_id)
            GROUP BY s.site_id ORDER BY s.site_id""",
    )
    return frame


def _space_filter(frame: pd.DataFrame) -> pd.DataFrame:
    for col, arg in (("floor_id", "floor"), ("zone_id", "zone"), ("kind", "kind")):
        value = _text(arg)
        if value is not None:
            frame = frame[frame[col] == value]
    return frame


bp = flask.Blueprint("api_v1", __name__)


@bp.get("/v1/openapi.json")
def openapi_json() -> flask.Response:
    return flask.Response(dumps(openapi_document()), mimetype="application/json")


@bp.get("/v1/sites")
def sites() -> flask.Response:
    _require(None)
    with _db().conn() as conn:
        frame = _sites(conn)
    return _page_response(frame)


@bp.get("/v1/spaces")
def spaces() -> flask.Response:
    _require(None)
    with _db().conn() as conn:
        frame, _ = analytics_api.read_metadata(conn)
        names = read_frame(conn, "SELECT space_id, name FROM spaces")
    frame = frame.merge(names, on="space_id", how="left")
    cols = ["space_id", "name", "kind", "capacity", "zone_id", "zone_kind",
            "department_id", "floor_id", "building_id", "site_id"]  # fmt: skip
    return _page_response(_space_filter(frame)[cols])


@bp.get("/v1/live")
def live() -> flask.Response:
    _require("read:live")
    now = dt.datetime.now(dt.UTC)
    with _db().conn() as conn:
        frame = read_live(conn, now, settings=_db().settings)
    return _page_response(_space_filter(frame), {"at": now.isoformat()}, ("at",))


def _range() -> tuple[dt.date, dt.date]:
    first, last = _date("from"), _date("to")
    if last < first:
        raise ApiError(400, "bad_parameter", f"to={last} is before from={first}")
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(400, "bad_parameter", f"at most {MAX_DAYS} days per request")
    return first, last


def _report_view(name: str) -> Callable[[], flask.Response]:
    spec = REPORTS[name]

    def view() -> flask.Response:
        _require("read:reports")
        first, last = _range()
        rollup = _bool("rollup")
        level = _text("level")
        settings = _db().settings
        filters = Filters(site=settings.site, floor=_text("floor"), zone=_text("zone"),
                          department=_text("department"),
                          working_hours_only=not _bool("all_hours"))  # fmt: skip
        with _db().conn() as conn:
            try:
                frame = build_report(conn, name, first, last, level=level,
                                     filters=filters, settings=settings,
                                     rollup=rollup)  # fmt: skip
            except (ReportError, analytics_api.StoreError) as exc:
                raise ApiError(400, "bad_parameter", str(exc)) from exc
        lv = level or spec.default_level
        extra = {"report": name, "level": lv, "columns": list(frame.columns)}
        return _page_response(frame, extra)

    view.__name__ = "report_" + name.replace("-", "_")
    return view


def _plan_view(name: str) -> Callable[[], flask.Response]:
    def view() -> flask.Response:
        _require("read:reports")
        first, last = _range()
        args = flask.request.args
        try:
            options = plan_options(name, {k: args.getlist(k) for k in args})
        except PlanParamError as exc:
            raise ApiError(400, "bad_parameter", str(exc)) from exc
        with _db().conn() as conn:
            try:
                frame = analytics_api.plan_report(
                    conn, name, first, last, options, _db().settings
                )
            except (analytics_api.PlanOptionError, analytics_api.StoreError) as exc:
                raise ApiError(400, "bad_parameter", str(exc)) from exc
        extra = {"report": name, "level": None, "columns": list(frame.columns)}
        return _page_response(frame.reset_index(drop=True), extra)

    view.__name__ = "report_" + name
    return view


for _name in REPORTS:
    bp.add_url_rule(f"/v1/reports/{_name}", view_func=_report_view(_name))
for _name in PLAN_PARAMS:
    bp.add_url_rule(f"/v1/reports/{_name}", view_func=_plan_view(_name))


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> flask.Response:
    return _error(exc.status, exc.code, exc.message)


def create_api(settings: Settings) -> flask.Flask:
    """The API as a WSGI app whose routes start at ``/v1`` (mount it at ``/api``)."""
    app = flask.Flask("occupancy_api")
    app.extensions[EXTENSION_KEY] = _Db(settings)
    app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> flask.Response:
        return _error(exc.code or 500, "http_error", exc.description or exc.name)

    @app.errorhandler(Exception)
    def _internal(exc: Exception) -> flask.Response:
        logger.error("API request failed: %s", exc, exc_info=exc)
        return _error(500, "internal", "internal error; see the server log")

    return app


def register(server: flask.Flask, settings: Settings) -> flask.Flask:
    """Serve the API at ``/api`` beside the dashboard on ``server``; return the API app."""
    api = create_api(settings)
    server.wsgi_app = DispatcherMiddleware(server.wsgi_app, {"/api": api.wsgi_app})  # type: ignore[method-assign]
    server.extensions[EXTENSION_KEY] = api
    return api
