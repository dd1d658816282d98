"""The owner's link `/n/<token>` answers only to the spelling notice_token writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.firelane.enforcement import stay_thresholds_check
from civicloop.firelane.notices import notice_approve, notice_by_token, notice_token
from civicloop.firelane.tracking import stay_merge
from tests.firelane.conftest import scene_bytes

pytestmark = pytest.mark.django_db

BOX = [0.4, 0.6, 0.55, 0.68]


@pytest.fixture
def token(make_sighting: Any, t0: Any, registry_records: Any, demo_city: None) -> str:
    """The signed link token of a notice sent by SMS for a car parked 31 minutes."""
    registry_records([("浙J12345", "王某", "13900001111")])
    stay = None
    for s in range(0, 31 * 60 + 1, 120):
        sighting = make_sighting(
            "浙J12345", t0 + timedelta(seconds=s), scene=scene_bytes(), box=BOX
        )
        stay = stay_merge(sighting=sighting)
    assert stay is not None
    stay_thresholds_check(stay_id=stay.pk)
    stay.refresh_from_db()
    case = Case.objects.get(pk=stay.case_id)
    notice = notice_approve(case=case, officer=User.objects.get(username="officer_fire"))
    return notice_token(notice)


def _variants(token: str) -> list[str]:
    """Other spellings int(..., 36) reads as the same id and expiry."""
    notice_id, expires, sig = token.split(".")
    return [
        f"0{notice_id}.{expires}.{sig}",
        f"+{notice_id}.{expires}.{sig}",
        f"{notice_id.upper()}.{expires.upper()}.{sig}",
        f"{notice_id}.0{expires}.{sig}",
        f"{notice_id}.+{expires}.{sig}",
        f" {notice_id}.{expires}.{sig}",
        f"{notice_id}.{expires[:1]}_{expires[1:]}.{sig}",
        f"-{notice_id}.{expires}.{sig}",
    ]


def test_only_the_canonical_token_opens_the_notice(token: str) -> None:
    # given the token the SMS carried, the notice opens
    assert notice_by_token(token=token) is not None

    # when the same id and expiry are spelled otherwise, then nothing is found
    for variant in _variants(token):
        assert notice_by_token(token=variant) is None, variant


def test_the_owner_page_refuses_other_spellings(token: str) -> None:
    client = Client()
    assert client.get(f"/n/{token}").status_code == 200
    for variant in _variants(token):
        if " " in variant:
            continue  # not a path a browser would send
        assert client.get(f"/n/{variant}").status_code == 404, variant
