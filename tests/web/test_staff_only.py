"""Staff pages are for staff: a citizen signed in by SMS code is sent to /citizen/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from civicloop.core.accounts.services import citizen_for_phone
from civicloop.core.cases.models import Case

# needs_modules: the case under test is an opinion (collected only when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

PHONE = "13955556666"


@pytest.fixture
def citizen_client(demo: None, client: Client) -> Client:
    """A client signed in as the citizen account an SMS code creates."""
    client.force_login(citizen_for_phone(phone=PHONE))
    return client


@pytest.mark.parametrize("page", ["/workbench/", "/cases/", "/cases/{number}/"])
def test_a_citizen_is_sent_from_a_staff_page_to_the_citizen_pages(
    citizen_client: Client, new_opinion: Callable[..., Case], page: str
) -> None:
    # given a case submitted from the citizen's own phone
    case = new_opinion()
    case.contact_phone = PHONE
    case.save()

    # when the citizen opens a staff page, even that of their own case
    response = citizen_client.get(page.format(number=case.number))

    # then they are sent to their own pages, not shown the staff page
    assert response.status_code == 302
    assert response["Location"] == "/citizen/"


def test_a_citizen_cannot_act_or_reveal_contacts_on_the_staff_pages(
    citizen_client: Client, new_opinion: Callable[..., Case]
) -> None:
    # given an open case
    case = new_opinion()

    # when the citizen posts a staff action or asks for the full contact
    acted = citizen_client.post(f"/cases/{case.number}/act/accept/", {"idempotency_key": "k1"})
    revealed = citizen_client.post(f"/cases/{case.number}/contact/")

    # then neither reaches the staff view, and the case did not move
    assert acted.status_code == 302 and acted["Location"] == "/citizen/"
    assert revealed.status_code == 302 and revealed["Location"] == "/citizen/"
    assert Case.objects.get(pk=case.pk).state == case.state


def test_staff_still_reach_the_staff_pages(
    login_as: Callable[[str], Client], new_opinion: Callable[..., Case]
) -> None:
    # given a staff member of the receiving station
    case = new_opinion()
    client = login_as("station_zeguo")

    # when they open the workbench, the list and the case page, then each is shown
    for page in ("/workbench/", "/cases/", f"/cases/{case.number}/"):
        assert client.get(page).status_code == 200, page


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get("/workbench/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
