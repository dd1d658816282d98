"""Every query is scoped by the user's units and areas through one helper."""

from __future__ import annotations

import pytest
from django.http import Http404

from civicloop.core.accounts.models import PersonalDataAccess
from civicloop.core.areas.models import Area
from civicloop.core.cases.access import (
    access_case_by_number,
    cases_visible_to,
    contact_reveal,
    may_see_contact,
)
from civicloop.core.cases.services import transition
from tests.core.cases.helpers import opinion, unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def test_units_see_what_they_own_hold_or_held(demo_city: None) -> None:
    case = opinion()
    assert cases_visible_to(user("station_zeguo")).filter(pk=case.pk).exists()
    assert not cases_visible_to(user("handler_zeguo")).filter(pk=case.pk).exists()
    with pytest.raises(Http404):
        access_case_by_number(user("handler_housing"), case.number)

    transition(case=case, action="accept", actor=user("station_zeguo"))
    transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("dept-housing"),
        grade="city",
    )
    assert access_case_by_number(user("handler_housing"), case.number) == case
    transition(case=case, action="return", actor=user("handler_housing"), note="非本单位职责")
    # The housing bureau held it once: it can still read what it did.
    assert cases_visible_to(user("handler_housing")).filter(pk=case.pk).exists()


def test_leaders_see_their_areas_and_admins_everything(demo_city: None) -> None:
    case = opinion(area=Area.objects.get(name="牧屿村"))
    assert cases_visible_to(user("leader")).filter(pk=case.pk).exists()
    assert cases_visible_to(user("admin")).filter(pk=case.pk).exists()
    # A department that never held it does not.
    assert not cases_visible_to(user("handler_housing")).filter(pk=case.pk).exists()


def test_anonymous_contact_is_hidden_from_handling_units_and_reads_are_logged(
    demo_city: None,
) -> None:
    case = opinion(anonymous=True)
    transition(case=case, action="accept", actor=user("station_zeguo"))
    case = transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        grade="town",
    )
    assert may_see_contact(user("deputy_wang"), case)
    assert not may_see_contact(user("handler_zeguo"), case)
    with pytest.raises(PermissionError):
        contact_reveal(user=user("handler_zeguo"), case=case)

    revealed = contact_reveal(user=user("deputy_wang"), case=case, purpose="回访")
    assert revealed["phone"] == "13912345678"
    log = PersonalDataAccess.objects.get()
    assert log.user == user("deputy_wang") and log.object_id == case.number
