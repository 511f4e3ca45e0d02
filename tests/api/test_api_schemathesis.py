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
]


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms(case: Any, api: Api) -> None:
    case.call_and_validate(base_url=api.url, headers=api.headers(), checks=CHECKS)
