"""Citizens sign in with a phone and an SMS code and follow only their own cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit, transition
from civicloop.core.units.models import Unit
from tests.sms_inbox import inbox

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.needs_modules("opinions"),
    pytest.mark.usefixtures("sms_inbox"),
]

PHONE = "13955556666"


def submit(phone: str, title: str) -> str:
    return case_submit(
        draft=CaseDraft(
            channel="opinion",
            title=title,
            body="小区门口积水严重。",
            contact_phone=phone,
            owner_unit=Unit.objects.get(code="station-331081100"),
        )
    ).number


def last_code() -> str:
    return inbox().last_code(PHONE)


def sign_in(client: Client) -> None:
    assert client.post("/citizen/", {"phone": PHONE, "send": "1"}).status_code == 302
    response = client.post("/citizen/", {"code": last_code(), "verify": "1"})
    assert response.status_code == 302 and response["Location"] == "/citizen/cases/"


def test_sign_in_with_a_code_and_see_only_my_cases(demo: None, client: Client) -> None:
    mine = submit(PHONE, "我家门口积水")
    theirs = submit("13800009999", "别人的事项")
    sign_in(client)

    page = client.get("/citizen/cases/").content.decode()
    assert mine in page and theirs not in page
    assert client.get(f"/citizen/cases/{mine}/").status_code == 200
    assert client.get(f"/citizen/cases/{theirs}/").status_code == 404
    # A citizen never reaches the staff pages: they are sent back to their own.
    staff_page = client.get(f"/cases/{theirs}/")
    assert staff_page.status_code == 302 and staff_page["Location"] == "/citizen/"


def test_wrong_code_bad_phone_and_resend_are_refused(demo: None, client: Client) -> None:
    bad = client.post("/citizen/", {"phone": "12345", "send": "1"})
    assert bad.status_code == 400 and "11位手机号" in bad.content.decode()

    client.post("/citizen/", {"phone": PHONE, "send": "1"})
    again = client.post("/citizen/", {"phone": PHONE, "send": "1"})
    assert again.status_code == 400 and "秒后再试" in again.content.decode()

    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/citizen/", {"code": wrong, "verify": "1"})
    assert refused.status_code == 400 and "验证码不正确" in refused.content.decode()
    assert client.get("/citizen/cases/").status_code == 302  # still signed out


def test_withdraw_an_open_case_once(demo: None, client: Client) -> None:
    number = submit(PHONE, "想撤回的事项")
    sign_in(client)
    page = client.get(f"/citizen/cases/{number}/").content.decode()
    assert "撤回此事项" in page
    key = f"{number}-withdraw-1"
    client.post(
        f"/citizen/cases/{number}/withdraw/", {"note": "已自行解决", "idempotency_key": key}
    )
    client.post(
        f"/citizen/cases/{number}/withdraw/", {"note": "已自行解决", "idempotency_key": key}
    )
    page = client.get(f"/citizen/cases/{number}/").content.decode()
    assert "已撤回" in page and "撤回此事项" not in page


def test_the_timeline_shows_only_the_steps_the_template_makes_public(
    demo: None, client: Client
) -> None:
    # Given a case that was dispatched, signed for, and then given an internal step
    number = submit(PHONE, "路灯不亮")
    case = Case.objects.get(number=number)
    staff = User.objects.get
    transition(case=case, action="accept", actor=staff(username="station_zeguo"))
    transition(
        case=case,
        action="dispatch",
        actor=staff(username="deputy_wang"),
        unit=Unit.objects.get(code="town-331081100"),
        grade="town",
    )
    case = transition(case=case, action="claim", actor=staff(username="handler_zeguo"))
    transition(
        case=case,
        action="request_extension",
        actor=staff(username="handler_zeguo"),
        note="材料未到",
        due_at=case.due_at + timedelta(days=10),  # type: ignore[operator]
    )

    # When the citizen opens it
    sign_in(client)
    response = client.get(f"/citizen/cases/{number}/")

    # Then they see the public steps, not the extension request
    shown = [entry.action for entry, _label in response.context["timeline"]]
    assert shown == ["submit", "accept", "dispatch", "claim"]
    assert "申请延期" not in response.content.decode()
