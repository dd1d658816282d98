"""A citizen on a phone signs in with an SMS code and reads the answer to their case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE, SHOTS
from tests.sms_inbox import SmsInbox

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("opinions"),
]

CITIZEN_PHONE = "13955556666"


@pytest.fixture
def answered_case(settings) -> str:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from civicloop.core.accounts.models import User
    from civicloop.core.cases.services import CaseDraft, case_submit, transition
    from civicloop.core.demo import demo_city_build
    from civicloop.core.units.models import Unit

    demo_city_build()
    case = case_submit(
        draft=CaseDraft(
            channel="opinion",
            title="小区门口积水",
            body="每逢下雨小区门口积水严重，老人出行不便。",
            contact_phone=CITIZEN_PHONE,
            owner_unit=Unit.objects.get(code="station-331081100"),
        )
    )
    transition(
        case=case,
        action="answer",
        actor=User.objects.get(username="deputy_wang"),
        note="已联系镇政府，排水管改造列入本月计划，月底前完工。",
    )
    return case.number


def test_citizen_reads_the_answer_on_a_phone(
    chromium_page, live_server, answered_case: str, sms_inbox: SmsInbox
) -> None:
    page = chromium_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/citizen/")
    page.fill("input[name=phone]", CITIZEN_PHONE)
    page.click("button[name=send]")
    page.wait_for_selector("input[name=code]")
    page.screenshot(path=str(SHOTS / "20-citizen-login-phone.png"), full_page=True)
    code = sms_inbox.last_code(CITIZEN_PHONE)
    page.fill("input[name=code]", code)
    page.click("button[name=verify]")
    page.wait_for_url(f"{live_server.url}/citizen/cases/")
    assert answered_case in page.content()
    page.screenshot(path=str(SHOTS / "21-citizen-cases-phone.png"), full_page=True)
    page.click(f"text={answered_case}")
    page.wait_for_selector("text=办理结果")
    assert "月底前完工" in page.content()
    page.screenshot(path=str(SHOTS / "22-citizen-case-phone.png"), full_page=True)
    assert Path(SHOTS / "22-citizen-case-phone.png").exists()
