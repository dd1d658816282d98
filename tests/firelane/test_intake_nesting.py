"""POST /intake/events/: a deeply nested JSON body is refused as malformed, not a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.firelane.test_intake_api import intake_api, post  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("depth", [2_000, 200_000])
@pytest.mark.parametrize("opener", ["[", '{"camera":'])
def test_a_deeply_nested_body_is_refused_with_a_reason(
    intake_api: tuple[Client, str],  # noqa: F811
    depth: int,
    opener: str,
) -> None:
    # given a camera bridge with a valid key
    client, key = intake_api
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "1" + closer * depth).encode()

    # when it posts a body nested deeper than the parser recurses
    response = post(client, body, key)

    # then it is refused as malformed, saying why
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    assert response.json()["detail"] == "body is nested too deeply"
