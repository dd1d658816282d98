"""Every module's JSON endpoint is an operation of the one ninja API: in its OpenAPI
schema (so schemathesis covers it), with its auth and its refusals documented."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

# needs_modules: the paths below are the 民意 and 生命通道 modules' (collected only when
# both are enabled).
pytestmark = pytest.mark.needs_modules("opinions", "firelane")

# path -> the security scheme it asks for (None: public)
MODULE_OPERATIONS: dict[str, str | None] = {
    "/api/v1/deputies": None,
    "/api/v1/stations": None,
    "/api/v1/firelane/cameras": "ApiKeyBearerAuth",
    "/api/v1/firelane/dashboard": "StaffSessionAuth",
}


def _schema() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def test_module_paths_are_operations_of_the_api_schema() -> None:
    paths = _schema()["paths"]

    assert set(MODULE_OPERATIONS) <= set(paths)
    for path, scheme in MODULE_OPERATIONS.items():
        operation = paths[path]["get"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok, path
        if scheme is None:
            assert "security" not in operation, path
        else:
            assert operation["security"] == [{scheme: []}], path
            assert "401" in operation["responses"], path


def test_refusals_are_documented_in_the_one_error_shape() -> None:
    paths = _schema()["paths"]
    error = {"$ref": "#/components/schemas/ErrorOut"}

    dashboard = paths["/api/v1/firelane/dashboard"]["get"]["responses"]
    for status in ("401", "403", "404"):
        assert dashboard[status]["content"]["application/json"]["schema"] == error
    cameras = paths["/api/v1/firelane/cameras"]["get"]["responses"]
    assert cameras["401"]["content"]["application/json"]["schema"] == error


def test_the_directory_documents_its_paging_headers() -> None:
    ok = _schema()["paths"]["/api/v1/deputies"]["get"]["responses"]["200"]

    assert {"X-Total-Count", "Link"} <= set(ok["headers"])


def test_trailing_slash_aliases_stay_out_of_the_schema() -> None:
    # One endpoint, documented once; the alias still answers (tests/opinions).
    paths = _schema()["paths"]

    assert "/api/v1/deputies/" not in paths and "/api/v1/stations/" not in paths
