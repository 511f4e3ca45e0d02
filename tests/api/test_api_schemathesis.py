"""Property-based test of every endpoint from the served OpenAPI document
(schemathesis): no 5xx, every status code, content type, header and body as
documented."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api.openapi import openapi_document

from .conftest import Api

pytestmark = pytest.mark.integration


# The document the API serves (test_served_document_is_this_one checks it is
# byte for byte the same); loaded at import so pytest can parametrize by endpoint.
schema = schemathesis.openapi.from_dict(openapi_document())


def test_served_document_is_this_one(api: Api) -> None:
    served = requests.get(api.url + "/api/v1/openapi.json", timeout=10).json()
    assert served == openapi_document()


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    # Re-sends the case without its Authorization header: must be 401/403.
    checks.ignored_auth,
]


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms(case: Any, api: Api) -> None:
    case.call_and_validate(base_url=api.url, headers=api.headers(), checks=CHECKS)


_BAD_TOKENS = [
    {},
    {"Authorization": "Bearer occ_deadbeef_" + "x" * 43},  # well-formed, unknown
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic Zm06cHc="},
]


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_refuses_missing_bad_and_wrong_scope_tokens(case: Any, api: Api) -> None:
    """Every operation: no, unknown, malformed or non-bearer token → 401;
    a valid token without the operation's scope → 403; never a 5xx, and the
    error bodies as documented."""
    scopes = case.operation.definition.raw["security"][0]["token"]
    wrong = {"read:live": "reports", "read:reports": "live"}
    cases = [(h, 401) for h in _BAD_TOKENS]
    cases += [(api.headers(wrong[s]), 403) for s in scopes]
    if case.method != "GET" or "Authorization" in (case.headers or {}):
        return  # schemathesis' own method / auth probes: covered by CHECKS above
    for headers, status in cases:
        response = requests.get(
            api.url + case.formatted_path,
            params=case.query,
            headers=headers,
            timeout=60,
        )
        assert response.status_code == status, (headers, response.text)
        case.validate_response(response, checks=CHECKS[:-1])
