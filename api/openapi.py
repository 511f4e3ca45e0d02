"""The OpenAPI 3.1 document of ``/api/v1``, built from the export reports'
column specs (:data:`analytics.reports.REPORTS`), so the API and the exports
cannot drift apart."""

from __future__ import annotations

import logging
from typing import Any

from analytics.api import LIVE_COLUMNS, REPORTS, Column, ReportSpec
from api.plan_params import PLAN_PARAMS

logger = logging.getLogger(__name__)

__all__ = ["MAX_DAYS", "MAX_PER_PAGE", "column_schema", "openapi_document"]

#: Longest report range one request may ask for [days].
MAX_DAYS = 400
#: Largest page [rows].
MAX_PER_PAGE = 1000

_STRING = {
    "band", "day", "department_a", "department_b", "department_id", "device_id",
    "family", "floor_id", "kind", "last_seen", "level", "level_id", "source",
    "space_id", "verdict", "week", "zone_id", "state", "since", "start", "end",
    "building_id", "site_id", "name", "timezone", "currency",
}  # fmt: skip
_BOOL = {"assigned", "online", "suppressed", "used_day", "mixing_suppressed"}
_DATE = {"day", "week"}
_DATETIME = {"last_seen", "since", "start", "end"}


def column_schema(
    name: str, description: str = "", unit: str = ""
) -> dict[str, object]:
    """JSON Schema of one column (every cell may be null: suppressed or no data)."""
    if name in _BOOL:
        kind = "boolean"
    elif name in _STRING:
        kind = "string"
    else:
        kind = "number"
    out: dict[str, Any] = {"type": [kind, "null"]}
    if name in _DATE:
        out["format"] = "date"
    elif name in _DATETIME:
        out["format"] = "date-time"
    text = description + (f" [{unit}]" if unit else "")
    if text:
        out["description"] = text
    return out


def _row_schema(columns: list[Column]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            c.name: column_schema(c.name, c.description, c.unit) for c in columns
        },
        "additionalProperties": False,
    }


def _all_columns(spec: ReportSpec) -> list[Column]:
    seen: dict[str, Column] = {c.name: c for c in spec.columns}
    for cols in spec.level_columns.values():
        for c in cols:
            seen.setdefault(c.name, c)
    return list(seen.values())


def _param(
    name: str, schema: dict[str, Any], desc: str, *, required: bool = False
) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": desc}  # fmt: skip


_PAGE_PARAMS = [
    _param("page", {"type": "integer", "minimum": 1, "default": 1}, "Page, from 1."),
    _param(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 100},
        "Rows per page.",
    ),
]
_FILTERS = [
    _param("floor", {"type": "string"}, "Only this floor."),
    _param("zone", {"type": "string"}, "Only this zone."),
    _param("department", {"type": "string"}, "Only this department."),
]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _responses(ok_schema: dict[str, Any], *, etag: bool) -> dict[str, Any]:
    def err(desc: str) -> dict[str, Any]:
        return {
            "description": desc,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
            },
        }

    out: dict[str, Any] = {
        "200": {
            "description": "OK",
            "headers": {
                **(
                    {
                        "ETag": {
                            "schema": {"type": "string"},
                            "description": "Strong ETag of the page; send it back as If-None-Match.",
                        }
                    }
                    if etag
                    else {}
                ),
                "Link": {
                    "schema": {"type": "string"},
                    "description": 'Present when another page follows: <URL of the next page>; rel="next" (the body\'s next).',
                },
            },
            "content": {"application/json": {"schema": ok_schema}},
        },
        "400": err("Bad parameter (the message names it)."),
        "401": err("Missing, unknown or revoked token."),
        "403": err("The token lacks the scope."),
    }
    if etag:
        out["304"] = {
            "description": "Not modified (If-None-Match matched the ETag); no body.",
            "headers": {"ETag": {"schema": {"type": "string"}}},
        }
    return out


def _page(rows: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "data": {"type": "array", "items": rows},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0},
        "next": {"type": ["string", "null"], "description": "URL of the next page"},
        **(extra or {}),
    }
    return {"type": "object", "required": list(props), "properties": props}


def _report_path(spec: ReportSpec) -> dict[str, Any]:
    params = [
        _param("from", {"type": "string", "format": "date"}, "First local day.", required=True),
        _param("to", {"type": "string", "format": "date"}, f"Last local day, included (at most {MAX_DAYS} days).", required=True),
        *_FILTERS,
        _param("all_hours", {"type": "boolean", "default": False}, "Every hour instead of working hours only (utilization, hour-of-week)."),
        _param("rollup", {"type": "boolean", "default": False}, "Departments one level up their hierarchy (team → department → division), as `occupancy export --rollup`."),
        *_PAGE_PARAMS,
    ]  # fmt: skip
    if spec.levels:
        params.insert(
            2,
            _param(
                "level",
                {"type": "string", "enum": list(spec.levels)},
                f"Level (default {spec.default_level}).",
            ),
        )
    extra = {
        "report": {"type": "string", "const": spec.name},
        "level": {"type": ["string", "null"]},
        "columns": {"type": "array", "items": {"type": "string"}},
    }
    return {
        "get": {
            "operationId": "report_" + spec.name.replace("-", "_"),
            "summary": spec.description,
            "tags": ["reports"],
            "security": [{"token": ["read:reports"]}],
            "parameters": params,
            "responses": _responses(
                _page(_row_schema(_all_columns(spec)), extra), etag=True
            ),
        }
    }


#: A plan report's row: its columns depend on the options (``show``, levels).
_PLAN_ROW = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}


def _plan_path(name: str) -> dict[str, Any]:
    own = []
    for p in PLAN_PARAMS[name]:
        schema: dict[str, Any] = dict(p.schema)
        if p.many:
            schema = {"type": "array", "items": schema}
            if p.required:
                schema["minItems"] = 1
        own.append(_param(p.name, schema, p.description, required=p.required))
    params = [
        _param("from", {"type": "string", "format": "date"}, "First local day of the measured history.", required=True),
        _param("to", {"type": "string", "format": "date"}, f"Last local day, included (at most {MAX_DAYS} days).", required=True),
        *own,
        *_PAGE_PARAMS,
    ]  # fmt: skip
    extra = {
        "report": {"type": "string", "const": name},
        "level": {"type": "null"},
        "columns": {"type": "array", "items": {"type": "string"}},
    }
    return {
        "get": {
            "operationId": "report_" + name,
            "summary": f"The plan report {name}: `occupancy export {name} --plan KEY=VALUE` (options as parameters; columns: docs/metrics.md).",
            "tags": ["plan"],
            "security": [{"token": ["read:reports"]}],
            "parameters": params,
            "responses": _responses(_page(_PLAN_ROW, extra), etag=True),
        }
    }  # fmt: skip


def _live_path() -> dict[str, Any]:
    row = {
        "type": "object",
        "required": list(LIVE_COLUMNS),
        "properties": {
            **{c: column_schema(c) for c in LIVE_COLUMNS},
            "state": {
                "type": "string",
                "enum": ["occupied", "vacant", "unknown", "private"],
            },
        },
        "additionalProperties": False,
    }
    params = [
        *_FILTERS[:2],
        _param("kind", {"type": "string", "enum": ["desk", "meeting_room", "focus_room", "phone_booth"]}, "Only this kind of space."),
        *_PAGE_PARAMS,
    ]  # fmt: skip
    extra = {"at": {"type": "string", "format": "date-time"}}
    return {
        "get": {
            "operationId": "live",
            "summary": "Live state per space: occupied, vacant, unknown or private (an assigned desk is never reported alone), since when, people for counters.",
            "tags": ["live"],
            "security": [{"token": ["read:live"]}],
            "parameters": params,
            "responses": _responses(_page(row, extra), etag=True),
        }
    }


def _meta_path(
    op: str, summary: str, row: dict[str, Any], params: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op,
            "summary": summary,
            "tags": ["metadata"],
            "security": [{"token": []}],
            "parameters": [*params, *_PAGE_PARAMS],
            "responses": _responses(_page(row), etag=True),
        }
    }  # fmt: skip


def _obj(**props: str) -> dict[str, Any]:
    types = {"s": ["string"], "s?": ["string", "null"], "n": ["number"]}
    return {
        "type": "object",
        "required": list(props),
        "properties": {k: {"type": types[v]} for k, v in props.items()},
        "additionalProperties": False,
    }


SITE_ROW = _obj(site_id="s", name="s", timezone="s", buildings="n", floors="n", spaces="n")  # fmt: skip
SPACE_ROW = _obj(
    space_id="s", name="s", kind="s", capacity="n", zone_id="s", zone_kind="s",
    department_id="s?", floor_id="s", building_id="s", site_id="s",
)  # fmt: skip


def openapi_document() -> dict[str, object]:
    """The whole document (OpenAPI 3.1.0)."""
    paths: dict[str, Any] = {
        "/api/v1/sites": _meta_path("sites", "Sites with their counts of buildings, floors and spaces.", SITE_ROW, []),
        "/api/v1/spaces": _meta_path("spaces", "Desks and rooms with their zone, floor and capacity.", SPACE_ROW, [*_FILTERS[:2], _param("kind", {"type": "string"}, "Only this kind.")]),
        "/api/v1/live": _live_path(),
    }  # fmt: skip
    for spec in REPORTS.values():
        paths[f"/api/v1/reports/{spec.name}"] = _report_path(spec)
    for name in PLAN_PARAMS:
        paths[f"/api/v1/reports/{name}"] = _plan_path(name)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "workplace-occupancy API",
            "version": "1.0.0",
            "description": "Sites, spaces, live state and the reports of `occupancy export` "
            "(same filters, columns and k-suppression). Bearer tokens from "
            "`occupancy api token create`. See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR},
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Scopes: read:live, read:reports; sites and spaces need any valid token.",
                }
            },
        },
    }
