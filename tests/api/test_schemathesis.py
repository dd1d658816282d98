"""Property-based conformance of the JSON API against its own OpenAPI schema.

Schemathesis generates requests from /api/v1/openapi.json and sends them in-process to
the WSGI app, with a valid API key and, for the staff endpoints, a signed-in staff
session; whatever it sends, the API must never answer 5xx and every response must match
the schema it publishes.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from civicloop.core.accounts.models import User

# Loading the schema calls the app in-process; the view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def staff_session_cookie(demo_city: None, client: Any) -> str:
    client.force_login(User.objects.get(username="handler_zeguo"))
    return str(client.cookies["sessionid"].value)


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: Any, api_key: str, staff_session_cookie: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"},
        cookies={"sessionid": staff_session_cookie},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
