"""A body the API cannot parse is the client's error: 400 with a reason, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case

# needs_modules: the demo case is an opinion (collected only when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

BOUNDARY = "civicloop-boundary"


@pytest.fixture
def signed_in(demo_city: None) -> tuple[Client, str]:
    """A staff member's browser session, CSRF enforced as in production, and its token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="station_zeguo"))
    client.get("/workbench/")
    return client, client.cookies["csrftoken"].value


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # a part without a name
        (f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx", f"boundary={BOUNDARY}"),
        # no boundary at all, and an empty one
        ("garbage", ""),
        ("garbage", "boundary="),
        # a well-formed form, where the endpoint reads JSON
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="action"\r\n\r\n'
            f"accept\r\n--{BOUNDARY}--\r\n",
            f"boundary={BOUNDARY}",
        ),
    ],
    ids=["nameless-part", "no-boundary", "empty-boundary", "form-not-json"],
)
def test_a_multipart_transition_body_is_refused_with_a_reason(
    signed_in: tuple[Client, str], body: str, content_type: str
) -> None:
    # given a submitted case and a signed-in staff member
    client, token = signed_in
    case = Case.objects.filter(source="demo", state="submitted").first()
    assert case is not None

    # when the transition is posted as a multipart body
    response = client.post(
        f"/api/v1/cases/{case.number}/transitions",
        body.encode(),
        content_type=f"multipart/form-data; {content_type}".rstrip("; "),
        HTTP_X_CSRFTOKEN=token,
    )

    # then it is a 400 in the API's error shape, naming why, and the case did not move
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_body" and response.json()["detail"]
    case.refresh_from_db()
    assert case.state == "submitted"
